package dev.toykvm.devices.pc;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.IrqLine;
import java.util.function.LongConsumer;

/**
 * QEMU's {@code pc-testdev} ({@code hw/misc/pc-testdev.c}), the ISA device kvm-unit-tests' x86
 * tests use ({@code -device pc-testdev}): a scratch register on I/O ports, interrupt lines the
 * guest raises by port writes, and a page of scratch memory.
 *
 * <p>This object is the I/O port window at {@link #PIO_BASE} ({@link #PIO_SIZE} ports); the other
 * two windows are the devices {@link #irqLines()} and {@link #iomem()}. Offsets from 0xe0:
 *
 * <pre>
 * 0x0-0x3  the scratch register (u32), accesses of 1, 2 or 4 bytes. An access at offset k uses
 *          the register's bytes k..k+size-1 (QEMU: mask = (~0u >> (32 - 8 * size)) << 8 * (k & 3));
 *          bytes that would lie past byte 3 are dropped on write and read as 0.
 * 0x4-0x7  the flush-page port: a 4-byte write of a guest physical address flushes its page (QEMU
 *          mprotects the page off and on, so that KVM drops its mappings of it); here it calls the
 *          injected handler with the page's address ({@code value & ~0xfff}). Reads return 0;
 *          accesses of other sizes are ignored, as QEMU does not accept them.
 * 0x8-0xb  the same scratch register again, split into byte accesses (QEMU's "ioport-byte", with
 *          .impl.max_access_size = 1): byte i of an access goes to register byte (k + i) &amp; 3.
 * </pre>
 *
 * <p>{@link #irqLines()}: {@link #IRQ_LINE_COUNT} ports at {@link #IRQ_LINE_BASE}; a 1-byte write
 * to port 0x2000 + n sets ISA IRQ line n to (value != 0) through the injected {@link IrqLine};
 * reads return 0; wider writes are ignored (QEMU accepts only bytes). {@link #iomem()}: {@link
 * #IOMEM_SIZE} bytes of memory at {@link #IOMEM_BASE}, read and written as plain little-endian
 * memory of any access size; bytes past its end read 0xff and are dropped on write.
 *
 * <p>Not modelled: nothing else exists on the QEMU device. Thread-safe.
 */
public final class PcTestdev implements BusDevice {

  public static final int PIO_BASE = 0xe0;
  public static final int PIO_SIZE = 12;

  public static final int SCRATCH = 0x0;
  public static final int FLUSH_PAGE = 0x4;
  public static final int SCRATCH_BYTES = 0x8;

  public static final int IRQ_LINE_BASE = 0x2000;
  public static final int IRQ_LINE_COUNT = 24;

  public static final long IOMEM_BASE = 0xff00_0000L;
  public static final int IOMEM_SIZE = 0x10000;

  private static final long PAGE_MASK = ~0xfffL;

  private final IrqLine irq;
  private final LongConsumer flushPage;
  private final IrqLines irqLines = new IrqLines();
  private final Iomem iomem = new Iomem();
  private int scratch;
  private long ignoredAccesses;

  /**
   * @param irq the ISA interrupt lines the guest drives through {@link #irqLines()}
   * @param flushPage called with a page's guest physical address when the guest asks it flushed
   */
  public PcTestdev(IrqLine irq, LongConsumer flushPage) {
    this.irq = irq;
    this.flushPage = flushPage;
  }

  /** A test device whose flush-page port does nothing. */
  public PcTestdev(IrqLine irq) {
    this(irq, page -> {});
  }

  /** The device to map at I/O port {@link #IRQ_LINE_BASE}, {@link #IRQ_LINE_COUNT} ports. */
  public BusDevice irqLines() {
    return irqLines;
  }

  /** The device to map at MMIO address {@link #IOMEM_BASE}, {@link #IOMEM_SIZE} bytes. */
  public BusDevice iomem() {
    return iomem;
  }

  /** The scratch register. */
  public synchronized int scratch() {
    return scratch;
  }

  /** Accesses of sizes QEMU does not accept, answered as the class comment says. */
  public synchronized long ignoredAccesses() {
    return ignoredAccesses;
  }

  @Override
  public synchronized long read(long offset, int size) {
    if (offset >= SCRATCH && offset < FLUSH_PAGE) {
      int shift = 8 * (int) offset;
      return (scratch & laneMask(size, shift)) >>> shift & 0xffff_ffffL;
    }
    if (offset >= FLUSH_PAGE && offset < SCRATCH_BYTES) {
      if (size != 4) {
        ignoredAccesses++;
      }
      return 0;
    }
    if (offset >= SCRATCH_BYTES && offset < PIO_SIZE) {
      long v = 0;
      for (int i = size - 1; i >= 0; i--) {
        v = (v << 8) | (scratch >>> 8 * ((offset + i) & 3)) & 0xff;
      }
      return v;
    }
    return BusDevice.allOnes(size);
  }

  @Override
  public void write(long offset, int size, long value) {
    long page = -1;
    synchronized (this) {
      if (offset >= SCRATCH && offset < FLUSH_PAGE) {
        int shift = 8 * (int) offset;
        int mask = laneMask(size, shift);
        scratch = (scratch & ~mask) | ((int) (value << shift) & mask);
      } else if (offset >= FLUSH_PAGE && offset < SCRATCH_BYTES) {
        if (size == 4) {
          page = value & 0xffff_ffffL & PAGE_MASK;
        } else {
          ignoredAccesses++;
        }
      } else if (offset >= SCRATCH_BYTES && offset < PIO_SIZE) {
        for (int i = 0; i < size; i++) {
          int shift = 8 * (int) ((offset + i) & 3);
          scratch = (scratch & ~(0xff << shift)) | ((int) (value >>> 8 * i) & 0xff) << shift;
        }
      }
    }
    if (page >= 0) {
      flushPage.accept(page); // outside the lock: the handler may take the VM's memory locks
    }
  }

  /** The register bytes an access of {@code size} at byte {@code shift / 8} covers. */
  private static int laneMask(int size, int shift) {
    int bits = Math.min(size, 4) * 8;
    return (int) ((0xffff_ffffL >>> (32 - bits)) << shift);
  }

  /** Ports 0x2000-0x2017: one per ISA interrupt line. */
  private final class IrqLines implements BusDevice {
    @Override
    public long read(long offset, int size) {
      return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
      if (size != 1 || offset < 0 || offset >= IRQ_LINE_COUNT) {
        synchronized (PcTestdev.this) {
          ignoredAccesses++;
        }
        return;
      }
      irq.setIrq((int) offset, (value & 0xff) != 0);
    }
  }

  /** 64 KiB of scratch memory at 0xff000000. */
  private final class Iomem implements BusDevice {
    private final byte[] bytes = new byte[IOMEM_SIZE];

    @Override
    public long read(long offset, int size) {
      synchronized (PcTestdev.this) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
          long at = offset + i;
          v = (v << 8) | (at >= 0 && at < IOMEM_SIZE ? bytes[(int) at] & 0xff : 0xff);
        }
        return v;
      }
    }

    @Override
    public void write(long offset, int size, long value) {
      synchronized (PcTestdev.this) {
        for (int i = 0; i < size; i++) {
          long at = offset + i;
          if (at >= 0 && at < IOMEM_SIZE) {
            bytes[(int) at] = (byte) (value >>> 8 * i);
          }
        }
      }
    }
  }
}
