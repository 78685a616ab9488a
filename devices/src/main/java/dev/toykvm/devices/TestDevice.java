package dev.toykvm.devices;

/**
 * A test device in the spirit of QEMU's {@code pc-testdev} as the ioregionfd RFC used it: what the
 * guest writes, it reads back; plus registers that let a guest check sizes, counts and the order of
 * posted writes from its side.
 *
 * <p>Layout (offsets from the region's start; every register is a little-endian u64):
 *
 * <pre>
 * 0x00-0x07  DATA        read/write. A write of size s at any offset here stores its value,
 *                        zero-extended to 64 bits (the offset inside the window does not shift it).
 *                        A read of size s at any offset here returns the low s bytes of the value.
 * 0x08-0x0f  DATA_MIRROR read-only: reads exactly as DATA does; writes are ignored. So a region of
 *                        8 bytes at port 0x1234 passes the RFC's test (write 0x1234, read 0x1238:
 *                        offsets 0x0 and 0x4 both read the stored value, truncated to the size).
 * 0x10       LAST_SIZE   read-only: the size (1, 2, 4, 8) of the access before this one; 0 if none.
 * 0x18       ACCESS_COUNT read-only: how many accesses the device saw before this one (reads and
 *                        writes of any offset, ignored ones included).
 * 0x20       LAST_WRITE_OFFSET read-only: the offset of the last write (any offset); all-ones
 *                        before the first write.
 * 0x28       SEQ_IN_ORDER read: how many entries of the sequence log are in order, i.e. the
 *                        length of the longest prefix whose entry i is the value i. A write of
 *                        any value empties the log.
 * 0x30       SEQ_APPEND  write: appends the value to the sequence log. Reads 0.
 * 0x38       SEQ_COUNT   read-only: how many entries the log holds.
 * 0x40       IRQ_PULSE   write n: an edge on interrupt line (GSI) n. Reads 0.
 * 0x48       IRQ_RAISE   write n: raises line n and holds it raised. Reads 0.
 * 0x50       IRQ_LOWER   write n: lowers line n. Reads 0.
 * 0x58       IRQ_RAISED  read-only: bit n is set while the device holds line n raised (n &lt; 64).
 * </pre>
 *
 * <p>To check posted-write ordering, a guest writes anything to SEQ_IN_ORDER, writes 0, 1, 2, ...,
 * n-1 to SEQ_APPEND, then reads SEQ_IN_ORDER and SEQ_COUNT: both are n exactly when every write
 * arrived, in order. The log itself is not stored, only those two numbers.
 *
 * <p>The interrupt registers drive the {@link IrqLine} the device was made with; in a device
 * process that is its irqfds ({@link IrqfdLines}, {@code --device testdev,irq=N}): a raised line is
 * a level interrupt that KVM deasserts at the guest's EOI and the device asserts again while it
 * stays raised (irqfd resample); a pulse is one edge (an irqfd without resample, {@code
 * edge-irq=N}, e.g. an MSI route). A line number the device has no irqfd for is dropped and counted
 * there. So a guest test can raise any route's interrupt at the moment it chooses.
 *
 * <p>A read of size s at offset r+k of a register r (0x10 and up) returns bytes k..k+s-1 of it, 0
 * past its end, so a 32-bit guest can read a register in two halves. Reads of any other offset
 * return 0; writes to read-only or unknown offsets are ignored and counted ({@link
 * #ignoredWrites()}). Nothing the guest does is an error.
 *
 * <p>Use a region of {@link #PIO_SIZE} bytes on the PIO bus (the data window only) or {@link
 * #MMIO_SIZE} on the MMIO bus. Thread-safe.
 */
public final class TestDevice implements BusDevice {

  /** The PIO region the RFC's test used: the data window and its mirror's first half. */
  public static final int PIO_SIZE = 8;

  /** An MMIO region: one page. */
  public static final int MMIO_SIZE = 0x1000;

  public static final int DATA = 0x00;
  public static final int DATA_MIRROR = 0x08;
  public static final int LAST_SIZE = 0x10;
  public static final int ACCESS_COUNT = 0x18;
  public static final int LAST_WRITE_OFFSET = 0x20;
  public static final int SEQ_IN_ORDER = 0x28;
  public static final int SEQ_APPEND = 0x30;
  public static final int SEQ_COUNT = 0x38;
  public static final int IRQ_PULSE = 0x40;
  public static final int IRQ_RAISE = 0x48;
  public static final int IRQ_LOWER = 0x50;
  public static final int IRQ_RAISED = 0x58;
  private static final int END = 0x60;

  private final IrqLine irq;
  private long raised;

  private long data;
  private int lastSize;
  private long accessCount;
  private long lastWriteOffset = -1;
  private long seqInOrder;
  private long seqCount;
  private long ignoredWrites;

  /** A test device whose interrupt registers drive nothing. */
  public TestDevice() {
    this((line, level) -> {});
  }

  /** A test device whose interrupt registers drive {@code irq}. */
  public TestDevice(IrqLine irq) {
    this.irq = irq;
  }

  @Override
  public synchronized long read(long offset, int size) {
    long value;
    if (offset >= DATA && offset < LAST_SIZE) {
      value = data;
    } else if (offset >= LAST_SIZE && offset < END) {
      value = register(offset & ~7L) >>> (8 * (offset & 7));
    } else {
      value = 0;
    }
    count(size);
    return value & BusDevice.allOnes(size);
  }

  @Override
  public synchronized void write(long offset, int size, long value) {
    long v = value & BusDevice.allOnes(size);
    if (offset >= DATA && offset < DATA_MIRROR) {
      data = v;
    } else if (offset == SEQ_IN_ORDER) {
      seqInOrder = 0;
      seqCount = 0;
    } else if (offset == SEQ_APPEND) {
      if (seqInOrder == seqCount && v == seqCount) {
        seqInOrder++;
      }
      seqCount++;
    } else if (offset == IRQ_PULSE) {
      irq.pulse((int) Math.min(v, Integer.MAX_VALUE));
    } else if (offset == IRQ_RAISE || offset == IRQ_LOWER) {
      boolean high = offset == IRQ_RAISE;
      if (v < 64) {
        raised = high ? raised | 1L << v : raised & ~(1L << v);
      }
      irq.setIrq((int) Math.min(v, Integer.MAX_VALUE), high);
    } else {
      ignoredWrites++;
    }
    lastWriteOffset = offset;
    count(size);
  }

  /** The value in the data window. */
  public synchronized long data() {
    return data;
  }

  /** All accesses so far. */
  public synchronized long accessCount() {
    return accessCount;
  }

  /** Writes to read-only or unknown offsets so far. */
  public synchronized long ignoredWrites() {
    return ignoredWrites;
  }

  private long register(long offset) {
    return switch ((int) offset) {
      case LAST_SIZE -> lastSize;
      case ACCESS_COUNT -> accessCount;
      case LAST_WRITE_OFFSET -> lastWriteOffset;
      case SEQ_IN_ORDER -> seqInOrder;
      case SEQ_COUNT -> seqCount;
      case IRQ_RAISED -> raised;
      default -> 0; // SEQ_APPEND and the interrupt registers one may only write
    };
  }

  private void count(int size) {
    lastSize = size;
    accessCount++;
  }
}
