package dev.toykvm.devices.bus;

import dev.toykvm.devices.BusDevice;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A bus: non-overlapping address ranges, each with a device. The same class serves port I/O
 * (addresses 0..0xffff) and MMIO (64-bit guest-physical addresses).
 *
 * <p>Rules, checked at {@link #insert}: a range is never empty, never wraps past 2^64 and never
 * overlaps another range; a conflict throws {@link BusRangeException} naming both ranges, it is
 * never silently ignored. An access is routed by its first address; the device sees the offset from
 * its base and the size, and answers accesses that run past its end itself.
 *
 * <p>Threads: lookups take no lock. The map of ranges is copied on every change and published
 * whole, so a lookup sees either the old or the new set of devices, never a half-made one. A vCPU
 * that looked up a device before {@link #remove} finishes that one access on it: whoever removes a
 * device must not tear down its state until the vCPUs have left it (for the VMM's own devices this
 * holds trivially, because the VMM thread both removes devices and handles exits).
 */
public final class Bus {

  /** A device found by {@link #lookup}: the device, its name and range, and the offset in it. */
  public record Match(String name, BusRange range, BusDevice device, long offset) {}

  private record Entry(String name, BusRange range, BusDevice device) {}

  private final String name;
  private volatile TreeMap<Long, Entry> entries = new TreeMap<Long, Entry>(Long::compareUnsigned);

  /**
   * @param name what the bus is called in messages, e.g. {@code "pio"} or {@code "mmio"}
   */
  public Bus(String name) {
    this.name = name;
  }

  /** The bus's name, as given at construction. */
  public String name() {
    return name;
  }

  /**
   * Maps {@code device} at {@code [base, base + length)}.
   *
   * @param deviceName the device's name in messages and traces
   * @throws BusRangeException if {@code length} is 0, the range runs past 2^64, or it overlaps a
   *     range already on this bus (the message names both ranges and devices)
   */
  public synchronized void insert(String deviceName, long base, long length, BusDevice device) {
    BusRange range;
    try {
      range = new BusRange(base, length);
    } catch (BusRangeException e) {
      throw new BusRangeException(
          "cannot insert " + deviceName + " on the " + name + " bus: " + e.getMessage());
    }
    for (Entry e : entries.values()) {
      if (e.range.overlaps(range)) {
        throw new BusRangeException(
            "cannot insert "
                + deviceName
                + " "
                + range
                + " on the "
                + name
                + " bus: it overlaps "
                + e.name
                + " "
                + e.range);
      }
    }
    TreeMap<Long, Entry> copy = new TreeMap<>(entries);
    copy.put(base, new Entry(deviceName, range, device));
    entries = copy;
  }

  /**
   * Removes the device whose range starts at {@code base}.
   *
   * @return whether a device was there
   */
  public synchronized boolean remove(long base) {
    if (!entries.containsKey(base)) {
      return false;
    }
    TreeMap<Long, Entry> copy = new TreeMap<>(entries);
    copy.remove(base);
    entries = copy;
    return true;
  }

  /** The device whose range holds {@code address}, and the offset of the address in it. */
  public Optional<Match> lookup(long address) {
    Map.Entry<Long, Entry> floor = entries.floorEntry(address);
    if (floor == null || !floor.getValue().range.contains(address)) {
      return Optional.empty();
    }
    Entry e = floor.getValue();
    return Optional.of(new Match(e.name, e.range, e.device, address - e.range.base()));
  }

  /** The ranges on this bus in address order, with their devices' names, for listings. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    for (Entry e : entries.values()) {
      out.add(e.range + " " + e.name);
    }
    return Collections.unmodifiableList(out);
  }
}
