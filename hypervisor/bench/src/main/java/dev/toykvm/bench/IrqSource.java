package dev.toykvm.bench;

import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Poll;

/**
 * What raises GSI {@value LatencyGuest#GSI} in one row of the interrupt latency table, and when.
 * {@link #signal} runs on the trigger thread, once per sample, and returns the {@link
 * System#nanoTime()} (CLOCK_MONOTONIC, the same clock in every process of the machine) taken right
 * before the interrupt was signalled.
 */
interface IrqSource extends AutoCloseable {

  /** The row's label. */
  String label();

  /** Connects the source to {@code vm} (its irqchip exists, no vCPU runs yet). */
  void attach(VmFd vm);

  /** Whether the line is level-triggered (an irqfd with resample; the guest sets the ELCR). */
  default boolean level() {
    return false;
  }

  /** Whether the source is an irqfd (the kernel side then has its irqfd thread). */
  default boolean usesIrqfd() {
    return true;
  }

  /** Raises the interrupt once; the time taken right before. */
  long signal() throws InterruptedException;

  /** Where the writing thread or process may run, for the placement column. */
  String writerPlace();

  @Override
  void close();

  /** {@code KVM_IRQ_LINE} 1 then 0 from the trigger thread: the comparison row. */
  final class IrqLine implements IrqSource {
    private VmFd vm;

    @Override
    public String label() {
      return "KVM_IRQ_LINE, thread";
    }

    @Override
    public boolean usesIrqfd() {
      return false;
    }

    @Override
    public void attach(VmFd vm) {
      this.vm = vm;
    }

    @Override
    public long signal() {
      long t = System.nanoTime();
      vm.irqLine(LatencyGuest.GSI, 1);
      vm.irqLine(LatencyGuest.GSI, 0);
      return t;
    }

    @Override
    public String writerPlace() {
      return "the trigger thread";
    }

    @Override
    public void close() {}
  }

  /**
   * An irqfd the trigger thread writes ({@code write(2)} of 1 to the eventfd), edge or level: a
   * level line is asserted again only after the kernel side has signalled the resamplefd (the
   * guest's EOI), as a device does.
   */
  final class ThreadEventfd implements IrqSource {
    private final Irqfd irqfd;
    private boolean asserted;

    ThreadEventfd(boolean level) {
      this.irqfd = Irqfd.create(level);
    }

    @Override
    public String label() {
      return irqfd.label("thread");
    }

    @Override
    public boolean level() {
      return irqfd.level();
    }

    @Override
    public void attach(VmFd vm) {
      irqfd.register(vm);
    }

    @Override
    public long signal() {
      if (irqfd.level() && asserted) {
        if (!Poll.poll(irqfd.resampleFd(), 5000).readable()) {
          throw new BenchException("cannot measure: no resample within 5 s of the guest's EOI");
        }
        Eventfd.drain(irqfd.resampleFd());
      }
      long t = System.nanoTime();
      Eventfd.signal(irqfd.fd());
      asserted = true;
      return t;
    }

    @Override
    public String writerPlace() {
      return "the trigger thread";
    }

    @Override
    public void close() {
      irqfd.close();
    }
  }
}
