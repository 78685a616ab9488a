package dev.toykvm.vmm.pci;

import dev.toykvm.devices.BusDevice;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An MSI-X BAR served by the VMM (PCI Local Bus Specification 3.0, section 6.8.2): the vector table
 * at offset 0, 16 bytes per entry, and the pending bit array (PBA) at {@link #PBA_OFFSET}.
 *
 * <pre>
 * entry v at 16v: +0 message address (low 32 bits; bits 1:0 read 0)  +4 message upper address
 *                 +8 message data                                     +12 vector control (bit 0 mask)
 * PBA at 0x1000:  bit v of qword v / 64 = vector v pending (read-only: writes ignored)
 * </pre>
 *
 * <p>Entries reset masked, address and data 0. The specification allows aligned dword and aligned
 * qword accesses only (the result of others is undefined): those are served; any other read returns
 * the bytes it covers as stored, any other write is dropped, counted and logged once. The rest of
 * the window reads 0 and ignores writes.
 *
 * <p>The PBA's bits come from the {@link Listener} ({@link MsixVectors}: a masked vector's eventfd
 * holding a signal). After each write that changes an entry, the listener is told, outside the
 * table's lock (so it may read the table), on the writing vCPU's thread.
 *
 * <p>Thread-safe.
 */
public final class MsixTable implements BusDevice {
  private static final Logger log = LoggerFactory.getLogger(MsixTable.class);

  /** Where the PBA starts in the BAR (the design's BAR4: table at 0, PBA at 0x1000). */
  public static final long PBA_OFFSET = 0x1000;

  /** Bytes of the BAR the design gives the table and the PBA: 8 KiB. */
  public static final long BAR_SIZE = 0x2000;

  /** The most vectors a table before {@link #PBA_OFFSET} holds. */
  public static final int MAX_VECTORS = (int) (PBA_OFFSET / MsixCapability.ENTRY_SIZE);

  /** Vector control's mask bit. */
  public static final int MASKED = 1;

  private static final int ADDRESS = 0;
  private static final int UPPER_ADDRESS = 1;
  private static final int DATA = 2;
  private static final int CONTROL = 3;

  /** What the table tells, and asks, the vectors behind it. */
  public interface Listener {
    /** Entry {@code vector}'s address, data or mask changed. */
    void entryChanged(int vector);

    /** Whether {@code vector} has a pending message (its PBA bit). */
    boolean pending(int vector);
  }

  /**
   * One vector table entry.
   *
   * @param address the message address (64 bits)
   * @param data the message data
   * @param masked vector control's mask bit
   */
  public record Entry(long address, int data, boolean masked) {}

  private final String name;
  private final int vectors;
  private final int[] dwords;
  private final AtomicLong oddAccesses = new AtomicLong();
  private volatile Listener listener;

  /**
   * @param name the function's name in messages
   * @param vectors table entries, 1 to {@link #MAX_VECTORS}
   */
  public MsixTable(String name, int vectors) {
    if (vectors < 1 || vectors > MAX_VECTORS) {
      throw new IllegalArgumentException(
          "cannot make the MSI-X table of %s: %d vectors is not 1-%d"
              .formatted(name, vectors, MAX_VECTORS));
    }
    this.name = name;
    this.vectors = vectors;
    this.dwords = new int[vectors * 4];
    for (int v = 0; v < vectors; v++) {
      dwords[4 * v + CONTROL] = MASKED;
    }
  }

  /** Tells {@code listener} of entry changes and asks it for pending bits from now on. */
  public void listen(Listener listener) {
    this.listener = listener;
  }

  public int vectors() {
    return vectors;
  }

  /** Entry {@code vector} as it is now. */
  public synchronized Entry entry(int vector) {
    int at = 4 * vector;
    long address = dwords[at + ADDRESS] & 0xffff_ffffL | (long) dwords[at + UPPER_ADDRESS] << 32;
    return new Entry(address, dwords[at + DATA], (dwords[at + CONTROL] & MASKED) != 0);
  }

  /** Accesses that were neither an aligned dword nor an aligned qword. */
  public long oddAccesses() {
    return oddAccesses.get();
  }

  @Override
  public long read(long offset, int size) {
    if (offset >= PBA_OFFSET) {
      return readBytes(offset, size, this::pbaByte);
    }
    if (!regular(offset, size)) {
      odd("read", offset, size);
    }
    return readBytes(offset, size, this::tableByte);
  }

  @Override
  public void write(long offset, int size, long value) {
    if (offset >= PBA_OFFSET) {
      return; // the PBA is read-only; past it, nothing
    }
    if (!regular(offset, size)) {
      odd("write", offset, size);
      return;
    }
    int first = (int) (offset / 4);
    int changedEntry = -1; // an aligned qword stays inside one 16-byte entry
    synchronized (this) {
      for (int i = 0; i < size / 4; i++) {
        int dw = first + i;
        if (dw >= dwords.length) {
          break;
        }
        int v = (int) (value >>> (32 * i));
        int field = dw & 3;
        int stored =
            switch (field) {
              case ADDRESS -> v & ~3;
              case CONTROL -> v & MASKED;
              default -> v;
            };
        if (dwords[dw] != stored) {
          dwords[dw] = stored;
          changedEntry = dw / 4;
        }
      }
    }
    Listener l = listener;
    if (l != null && changedEntry >= 0) {
      l.entryChanged(changedEntry);
    }
  }

  private static boolean regular(long offset, int size) {
    return (size == 4 || size == 8) && offset % size == 0;
  }

  private void odd(String what, long offset, int size) {
    if (oddAccesses.getAndIncrement() == 0) {
      log.warn(
          "msix: {}: a {}-byte {} at 0x{} of the MSI-X table (only aligned dwords and qwords are"
              + " defined); such writes are dropped (said once)",
          name,
          size,
          what,
          Long.toHexString(offset));
    }
  }

  private interface ByteSource {
    int at(long offset);
  }

  private static long readBytes(long offset, int size, ByteSource source) {
    long v = 0;
    for (int i = size - 1; i >= 0; i--) {
      v = v << 8 | source.at(offset + i);
    }
    return v;
  }

  private synchronized int tableByte(long offset) {
    if (offset < 0 || offset >= 4L * dwords.length) {
      return 0;
    }
    return dwords[(int) (offset / 4)] >>> (8 * (offset % 4)) & 0xff;
  }

  private int pbaByte(long offset) {
    long first = (offset - PBA_OFFSET) * 8;
    Listener l = listener;
    int b = 0;
    for (int i = 0; i < 8; i++) {
      long v = first + i;
      if (v < vectors && l != null && l.pending((int) v)) {
        b |= 1 << i;
      }
    }
    return b;
  }
}
