package dev.toykvm.devices;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Guest RAM as a device doing DMA sees it: the pieces of the VMM's guest memory file that are RAM,
 * each at its guest-physical address ({@link Range}), mapped shared, so what the device writes the
 * guest sees and the other way round. Anything outside the ranges (the PC's 0xa0000-0xfffff hole,
 * the PCI hole, addresses past the end of RAM) is not reachable: an access that touches it, or
 * straddles two ranges, moves nothing and returns {@code false}. Bounds are checked as unsigned
 * 64-bit numbers, so no address near 2^64 can wrap into RAM.
 *
 * <p>In a device process ({@link #map}) the file arrives as an inherited fd with the layout on the
 * command line ({@code --guest-ram FD:GPA:SIZE:OFFSET[+...]}); in the VMM ({@link #over}) it is the
 * VMM's own mapping. Not synchronised: a device model uses it from its one thread; concurrent guest
 * accesses to the same bytes are as racy as on hardware.
 */
public final class GuestRam implements GuestMemory, AutoCloseable {

  /**
   * One piece of guest RAM: {@code size} bytes at guest-physical {@code gpa}, at {@code offset} in
   * the file.
   *
   * @throws IllegalArgumentException if the size is 0, the offset negative, or the range passes
   *     2^64 (in guest-physical space) or 2^63 (in the file)
   */
  public record Range(long gpa, long size, long offset) {
    public Range {
      if (size <= 0 || offset < 0) {
        throw new IllegalArgumentException(
            "cannot describe guest RAM 0x%x+0x%x at file offset 0x%x: size must be positive and the offset not negative"
                .formatted(gpa, size, offset));
      }
      if (Long.compareUnsigned(gpa + size - 1, gpa) < 0 || offset + size < 0) {
        throw new IllegalArgumentException(
            "cannot describe guest RAM 0x%x+0x%x at file offset 0x%x: it passes 2^64"
                .formatted(gpa, size, offset));
      }
    }

    /** Whether {@code addr} is in the range (unsigned). */
    boolean contains(long addr) {
      return Long.compareUnsigned(addr - gpa, size) < 0 && Long.compareUnsigned(addr, gpa) >= 0;
    }

    /** {@code GPA:SIZE:OFFSET} in hex, as {@link #parseLayout} reads it. */
    @Override
    public String toString() {
      return "0x%x:0x%x:0x%x".formatted(gpa, size, offset);
    }
  }

  private final List<Range> ranges;
  private final MemorySegment[] memory;
  private final Arena arena; // null when the mapping is someone else's

  private GuestRam(List<Range> ranges, MemorySegment[] memory, Arena arena) {
    this.ranges = ranges;
    this.memory = memory;
    this.arena = arena;
  }

  /**
   * Maps the guest memory file open as {@code fd} in this process, shared and read-write.
   *
   * @throws IllegalArgumentException if the layout is bad ({@link #checkLayout})
   * @throws IOException if the fd cannot be opened or mapped, or a range ends past the file's end
   */
  public static GuestRam map(int fd, List<Range> layout) throws IOException {
    List<Range> ranges = checkLayout(layout);
    Path path = Path.of("/proc/self/fd/" + fd);
    try (FileChannel channel =
        FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long fileSize = channel.size();
      for (Range r : ranges) {
        if (r.offset() + r.size() > fileSize) {
          throw new IOException(
              "cannot map guest RAM %s: the file (fd %d) has only 0x%x bytes"
                  .formatted(r, fd, fileSize));
        }
      }
      Arena arena = Arena.ofShared();
      try {
        MemorySegment[] memory = new MemorySegment[ranges.size()];
        for (int i = 0; i < memory.length; i++) {
          Range r = ranges.get(i);
          memory[i] = channel.map(FileChannel.MapMode.READ_WRITE, r.offset(), r.size(), arena);
        }
        return new GuestRam(ranges, memory, arena);
      } catch (IOException | RuntimeException e) {
        arena.close();
        throw new IOException("cannot map guest RAM from fd " + fd + ": " + e.getMessage(), e);
      }
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("cannot map guest RAM: fd " + fd + " is not open", e);
    }
  }

  /**
   * Guest RAM over a mapping the caller owns (the VMM's guest memory file: file offset = segment
   * offset), for a device model that runs in the VMM.
   *
   * @throws IllegalArgumentException if the layout is bad or a range ends past {@code file}
   */
  public static GuestRam over(MemorySegment file, List<Range> layout) {
    List<Range> ranges = checkLayout(layout);
    MemorySegment[] memory = new MemorySegment[ranges.size()];
    for (int i = 0; i < memory.length; i++) {
      Range r = ranges.get(i);
      if (r.offset() + r.size() > file.byteSize()) {
        throw new IllegalArgumentException(
            "cannot use guest RAM %s: the mapping has only 0x%x bytes"
                .formatted(r, file.byteSize()));
      }
      memory[i] = file.asSlice(r.offset(), r.size());
    }
    return new GuestRam(ranges, memory, null);
  }

  /**
   * The layout sorted by address.
   *
   * @throws IllegalArgumentException if it is empty or two ranges overlap in guest-physical space
   */
  public static List<Range> checkLayout(List<Range> layout) {
    if (layout.isEmpty()) {
      throw new IllegalArgumentException("cannot use guest RAM: the layout has no range");
    }
    List<Range> sorted = new ArrayList<>(layout);
    sorted.sort(Comparator.comparing(Range::gpa, Long::compareUnsigned));
    for (int i = 1; i < sorted.size(); i++) {
      Range a = sorted.get(i - 1);
      Range b = sorted.get(i);
      if (Long.compareUnsigned(b.gpa() - a.gpa(), a.size()) < 0) {
        throw new IllegalArgumentException(
            "cannot use guest RAM: ranges %s and %s overlap".formatted(a, b));
      }
    }
    return List.copyOf(sorted);
  }

  private static final Pattern NUMBER = Pattern.compile("0x[0-9a-f]{1,16}|[0-9]{1,20}");

  /**
   * Reads {@code GPA:SIZE:OFFSET[+GPA:SIZE:OFFSET...]} (numbers decimal or 0x hex, unsigned).
   *
   * @throws IllegalArgumentException if it is not that, or the layout is bad
   */
  public static List<Range> parseLayout(String text) {
    List<Range> ranges = new ArrayList<>();
    for (String part : text.split("\\+", -1)) {
      String[] n = part.split(":", -1);
      if (n.length != 3) {
        throw new IllegalArgumentException(
            "guest RAM layout '" + text + "': '" + part + "' is not GPA:SIZE:OFFSET");
      }
      long[] v = new long[3];
      for (int i = 0; i < 3; i++) {
        String t = n[i].toLowerCase(Locale.ROOT);
        if (!NUMBER.matcher(t).matches()) {
          throw new IllegalArgumentException(
              "guest RAM layout '" + text + "': '" + n[i] + "' is not a number");
        }
        try {
          v[i] =
              t.startsWith("0x")
                  ? Long.parseUnsignedLong(t.substring(2), 16)
                  : Long.parseUnsignedLong(t);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "guest RAM layout '" + text + "': '" + n[i] + "' does not fit in 64 bits");
        }
      }
      ranges.add(new Range(v[0], v[1], v[2]));
    }
    return checkLayout(ranges);
  }

  /**
   * Maps the guest RAM a device's {@code --guest-ram FD:GPA:SIZE:OFFSET[+GPA:SIZE:OFFSET...]}
   * names: an inherited fd and the layout.
   *
   * @throws IllegalArgumentException if the argument is not that
   * @throws IOException if it cannot be mapped
   */
  public static GuestRam fromArgument(String argument) throws IOException {
    int colon = argument.indexOf(':');
    if (colon <= 0 || !argument.substring(0, colon).matches("[0-9]{1,9}")) {
      throw new IllegalArgumentException(
          "--guest-ram " + argument + " is not FD:GPA:SIZE:OFFSET[+GPA:SIZE:OFFSET...]");
    }
    List<Range> layout;
    try {
      layout = parseLayout(argument.substring(colon + 1));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--guest-ram: " + e.getMessage());
    }
    return map(Integer.parseInt(argument.substring(0, colon)), layout);
  }

  /** The layout as {@link #parseLayout} reads it. */
  public static String formatLayout(List<Range> layout) {
    return String.join("+", layout.stream().map(Range::toString).toList());
  }

  /** The ranges, by address. */
  public List<Range> ranges() {
    return ranges;
  }

  /**
   * The mapping of {@code length} bytes at {@code addr} if they are all in one range, else null.
   */
  private MemorySegment slice(long addr, long length) {
    for (int i = 0; i < memory.length; i++) {
      Range r = ranges.get(i);
      if (r.contains(addr)) {
        long at = addr - r.gpa();
        // at < size, both below 2^63 as unsigned: no overflow in size - at
        return length <= r.size() - at ? memory[i].asSlice(at, length) : null;
      }
    }
    return null;
  }

  @Override
  public boolean read(long addr, byte[] dst) {
    if (dst.length == 0) {
      return true;
    }
    MemorySegment s = slice(addr, dst.length);
    if (s == null) {
      return false;
    }
    MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, dst, 0, dst.length);
    return true;
  }

  @Override
  public boolean write(long addr, byte[] src) {
    if (src.length == 0) {
      return true;
    }
    MemorySegment s = slice(addr, src.length);
    if (s == null) {
      return false;
    }
    MemorySegment.copy(src, 0, s, ValueLayout.JAVA_BYTE, 0, src.length);
    return true;
  }

  /** Unmaps what {@link #map} mapped; nothing for {@link #over}. Idempotent. */
  @Override
  public void close() {
    if (arena != null && arena.scope().isAlive()) {
      arena.close();
    }
  }
}
