package dev.toykvm.kvm;

import java.util.function.LongConsumer;

/**
 * Why {@link VcpuFd#run()} returned: one record per {@code KVM_EXIT_*} reason, so that a VMM
 * handles exits with an exhaustive {@code switch}.
 *
 * <p>For {@link IoIn} and {@link MmioRead} the VMM supplies the value read with {@code
 * setData(long)} before the next {@code run()}, which completes the access, exactly as a VMM fills
 * {@code kvm_run->io} or {@code kvm_run->mmio.data}. A read the VMM does not answer reads as
 * all-ones, like a read from an unclaimed bus.
 *
 * <p>Port I/O is {@code KVM_EXIT_IO}, whose {@code kvm_run->io} is {direction, size, port, count,
 * data_offset}. An {@code in}/{@code out} of one element is an {@link IoIn}/{@link IoOut}. A {@code
 * rep ins}/{@code rep outs} is one {@link IoInString}/{@link IoOutString} of {@code count} elements
 * of {@code size} bytes, at most a 4 KiB data area ({@code count * size <= 4096}); a longer repeat
 * exits again for the rest, and a {@code run()} (or a kick) can come between the parts. Its data is
 * the elements in the order the guest accessed them (with DF=1 too), little-endian. Ports that an
 * ioeventfd or an ioregion claims are served in the kernel side element by element, as KVM's
 * in-kernel devices see string I/O, and never exit.
 *
 * {@snippet :
 * switch (vcpu.run()) {
 *   case VcpuExit.IoOut out when out.port() == 0x3f8 -> serial.write((byte) out.data());
 *   case VcpuExit.MmioRead read -> read.setData(device.read(read.address(), read.size()));
 *   case VcpuExit.Hlt hlt -> running = false;
 *   default -> {}
 * }
 * }
 */
public sealed interface VcpuExit {

  /** The {@code KVM_EXIT_*} number of this exit. */
  int reason();

  /** {@code KVM_EXIT_IO}, direction in: the guest executed {@code in}; answer with setData. */
  record IoIn(int port, int size, LongConsumer completion) implements VcpuExit {
    /** Supplies the value the guest's {@code in} reads (truncated to {@code size} bytes). */
    public void setData(long value) {
      completion.accept(value);
    }

    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_IO;
    }
  }

  /** {@code KVM_EXIT_IO}, direction out: the guest executed {@code out}. */
  record IoOut(int port, int size, long data) implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_IO;
    }
  }

  /**
   * {@code KVM_EXIT_IO}, direction out, for {@code rep outs}: the guest wrote {@code count}
   * elements of {@code size} bytes to {@code port}; {@code data} holds them ({@code count * size}
   * bytes, in the guest's order). As in KVM, the out is complete: RSI and RCX are already past the
   * batch.
   *
   * <p>{@code data} is the exit's own buffer, as {@code kvm_run}'s data area is: valid until the
   * next {@code run()}.
   */
  record IoOutString(int port, int size, int count, byte[] data) implements VcpuExit {
    /** Element {@code i} (0-based) as a little-endian value. */
    public long element(int i) {
      return IoStringData.get(data, size, i);
    }

    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_IO;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof IoOutString x
          && x.port == port
          && x.size == size
          && x.count == count
          && java.util.Arrays.equals(x.data, data);
    }

    @Override
    public int hashCode() {
      return java.util.Objects.hash(port, size, count, java.util.Arrays.hashCode(data));
    }

    @Override
    public String toString() {
      return "IoOutString[port=0x"
          + Integer.toHexString(port)
          + ", size="
          + size
          + ", count="
          + count
          + ", data="
          + java.util.HexFormat.of().formatHex(data)
          + "]";
    }
  }

  /**
   * {@code KVM_EXIT_IO}, direction in, for {@code rep ins}: the guest reads {@code count} elements
   * of {@code size} bytes from {@code port}. The VMM fills {@code data} ({@code count * size}
   * bytes, all-ones until filled), for example with {@link #setElement}, before the next {@code
   * run()}, which stores the elements at ES:RDI (downwards with DF=1) and advances RDI and RCX.
   */
  record IoInString(int port, int size, int count, byte[] data) implements VcpuExit {
    /** Sets element {@code i} (0-based) to the low {@code size} bytes of {@code value}. */
    public void setElement(int i, long value) {
      IoStringData.set(data, size, i, value);
    }

    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_IO;
    }

    @Override
    public String toString() {
      return "IoInString[port=0x"
          + Integer.toHexString(port)
          + ", size="
          + size
          + ", count="
          + count
          + "]";
    }
  }

  /** {@code KVM_EXIT_MMIO}, a read: answer with setData before the next run(). */
  record MmioRead(long address, int size, LongConsumer completion) implements VcpuExit {
    /** Supplies the value the guest reads (little-endian, truncated to {@code size} bytes). */
    public void setData(long value) {
      completion.accept(value);
    }

    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_MMIO;
    }
  }

  /** {@code KVM_EXIT_MMIO}, a write of {@code size} bytes (1, 2, 4 or 8), little-endian. */
  record MmioWrite(long address, int size, long data) implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_MMIO;
    }
  }

  /** {@code KVM_EXIT_HLT}: the guest executed {@code hlt} (no in-kernel irqchip). */
  record Hlt() implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_HLT;
    }
  }

  /**
   * {@code KVM_EXIT_IRQ_WINDOW_OPEN}: {@link VcpuFd#setRequestInterruptWindow} asked for it, and
   * the guest can now take an interrupt (no in-kernel irqchip): queue one with {@link
   * VcpuFd#interrupt(int)}. No instruction ran since the window opened.
   */
  record IrqWindowOpen() implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_IRQ_WINDOW_OPEN;
    }
  }

  /** {@code KVM_EXIT_SHUTDOWN}: a triple fault; the vCPU cannot run on without a reset. */
  record Shutdown() implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_SHUTDOWN;
    }
  }

  /**
   * {@code KVM_EXIT_FAIL_ENTRY}: the vCPU state could not be entered (on hardware: a VM-entry
   * failure). {@code reason} says which state was rejected.
   */
  record FailEntry(long hardwareEntryFailureReason, String description) implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_FAIL_ENTRY;
    }
  }

  /**
   * {@code KVM_EXIT_INTERNAL_ERROR}: something the kernel side cannot emulate; {@code suberror} is
   * one of {@code KVM_INTERNAL_ERROR_*} and {@code description} says what.
   */
  record InternalError(int suberror, String description) implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_INTERNAL_ERROR;
    }
  }

  /**
   * {@link KvmConstants#KVM_EXIT_IOREGIONFD_FAILURE}: an access to an ioregion failed because the
   * device process closed its pipe, died, stalled past the timeout or answered a malformed
   * response. The RFC falls back to an ordinary MMIO/PIO exit here and left this dedicated exit as
   * a TODO; toykvm defines it so that the VMM learns which device failed.
   *
   * <p>Like an {@link MmioRead}, the access is still pending: the next {@code run()} completes it.
   * For a read the VMM may answer with {@link #setData} (for example from a device it restarted);
   * otherwise the guest reads all-ones, as from a device that does not answer. A write is dropped.
   *
   * @param address guest-physical address (or port) of the access
   * @param size 1, 2, 4 or 8
   * @param write whether the access was a write
   * @param data the value written (0 for a read)
   * @param pio whether it was port I/O
   * @param regionStart the start of the ioregion
   * @param regionSize its size
   * @param errno {@code EIO}: EOF, a short read or write, a dead device; {@code EAGAIN}: no
   *     response within the timeout; {@code EINVAL}: a malformed response
   * @param description the same in words, naming the fds
   * @param completion where {@link #setData} delivers a read's value
   */
  record IoregionfdFailure(
      long address,
      int size,
      boolean write,
      long data,
      boolean pio,
      long regionStart,
      long regionSize,
      Errno errno,
      String description,
      LongConsumer completion)
      implements VcpuExit {
    /** Supplies the value a failed read returns to the guest (all-ones if never called). */
    public void setData(long value) {
      completion.accept(value);
    }

    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_IOREGIONFD_FAILURE;
    }
  }

  /**
   * {@code KVM_EXIT_INTR}: {@code run()} was interrupted by {@link VcpuFd#kick()} (the counterpart
   * of a signal). An access in progress is resumed by the next {@code run()}.
   */
  record Intr() implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_INTR;
    }
  }
}
