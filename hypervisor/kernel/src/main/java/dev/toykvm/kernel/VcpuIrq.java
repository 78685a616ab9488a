package dev.toykvm.kernel;

import dev.toykvm.kernel.irq.InterruptRequest;
import dev.toykvm.kernel.irq.Ipi;
import dev.toykvm.kernel.irq.Lapic;
import dev.toykvm.kernel.irq.TriggerMode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One vCPU's side of the irqchip: its local APIC (behind its own lock: I/O APIC messages arrive
 * from any thread), the flag that makes the engine look for an interrupt at the next translation
 * block, and the wait of a halted vCPU.
 *
 * <p>The engine thread reads {@link #needsCheck} at every block start: a plain volatile read and a
 * compare with the timer's deadline, no lock. Whoever makes an interrupt possible (a line raised, a
 * message accepted, a mask, TPR or EOI written) sets the flag and wakes a halted vCPU.
 */
final class VcpuIrq {
  /** What {@link #halt} and {@link #awaitStartup} return when an INIT or an NMI needs the vCPU. */
  static final int EVENT = -2;

  private final Irqchip chip;
  private final int id;
  private final Lapic lapic;
  private final Object halt = new Object();
  private volatile boolean check = true;
  private volatile long deadline = Long.MAX_VALUE;
  private volatile Runnable attention = () -> {};
  private boolean woken; // under halt
  private boolean polling; // under halt: the engine thread waits in its poller's epoll_wait
  private volatile HaltPoller poller; // set by Irqfds once the VM has irqfds
  private volatile Irqfds pollerOwner;
  private int levelEois = -1; // under the lapic lock: a level EOI to pass on (one per write)
  private final List<Ipi> ipis = new ArrayList<>(); // under the lapic lock: IPIs to send after it
  // Latched by other vCPUs' IPIs (any thread), taken by the engine thread (see VcpuMp).
  private volatile boolean nmi;
  private volatile boolean init;
  private volatile int sipi = -1;
  private volatile boolean expectsSipi; // an INIT came (or the vCPU waits): a SIPI counts
  private volatile boolean haltedIf0; // in a hlt with IF=0: only an NMI or INIT ends it

  VcpuIrq(Irqchip chip, int vcpuId) {
    this.chip = chip;
    this.id = vcpuId;
    this.lapic =
        new Lapic(
            vcpuId,
            vcpuId == 0,
            System::nanoTime,
            new Lapic.Listener() {
              @Override
              public void ipi(Ipi ipi) {
                ipis.add(ipi); // sent once the lapic lock is released: see Irqchip's lock order
              }

              @Override
              public void levelEoi(int vector) {
                levelEois = vector;
              }
            });
  }

  /** Whether the engine should look for an interrupt now (block hook; engine thread). */
  boolean needsCheck(long now) {
    return check || nmi || init || now >= deadline || now >= chip.pitDeadline();
  }

  /** Looks again at the next block (an interrupt was pending but IF or a shadow blocked it). */
  void recheck() {
    look();
  }

  /**
   * Sets the check flag and tells the engine (its block gate) to look at the next block start. Any
   * thread.
   */
  private void look() {
    check = true;
    attention.run();
  }

  /** What raises the engine's attention when an interrupt may have become possible. */
  void onAttention(Runnable raise) {
    attention = raise;
  }

  /**
   * Whether the engine must look at every block start: the check flag is set (an interrupt blocked
   * by IF or a shadow is looked at again), an NMI waits (blocked until IRET) or an INIT, or a local
   * APIC timer or the PIT is armed.
   */
  boolean watching() {
    return check
        || nmi
        || init
        || deadline != Long.MAX_VALUE
        || chip.pitDeadline() != Long.MAX_VALUE;
  }

  /**
   * Whether an interrupt waits for the CPU: the PIC's INTR through the virtual wire, or the local
   * APIC's highest pending vector above PPR. Expires the timer first; clears the check flag.
   */
  boolean pending() {
    check = false;
    chip.servicePit(System.nanoTime());
    synchronized (lapic) {
      serviceTimer();
      return lapic.highestPending() >= 0 || (lapic.acceptsPicInterrupts() && chip.picIntr());
    }
  }

  /**
   * The interrupt acknowledge: the PIC's vector first (as KVM's kvm_cpu_get_interrupt takes the
   * ExtINT first), else the local APIC's (IRR to ISR); -1 if nothing waits any more.
   */
  int acknowledge() {
    chip.servicePit(System.nanoTime());
    synchronized (lapic) {
      serviceTimer();
      if (lapic.acceptsPicInterrupts()) {
        int vector = chip.picAcknowledge();
        if (vector >= 0) {
          look(); // another request may be behind it
          return vector;
        }
      }
      int vector = lapic.acknowledge();
      if (vector >= 0) {
        look();
      }
      return vector;
    }
  }

  private void serviceTimer() {
    lapic.serviceTimer();
    deadline = lapic.nextDeadline();
  }

  /** An I/O APIC message: accepted if it addresses this APIC (any thread). */
  boolean accept(InterruptRequest m) {
    synchronized (lapic) {
      if (!lapic.matchesDestination(m.dest(), m.destMode())
          || !lapic.acceptInterrupt(m.vector(), m.trigger())) {
        return false;
      }
    }
    wake();
    return true;
  }

  int id() {
    return id;
  }

  /** Whether the local APIC is hardware- and software-enabled (any thread). */
  boolean apicEnabled() {
    synchronized (lapic) {
      return lapic.hardwareEnabled() && lapic.softwareEnabled();
    }
  }

  /** Whether an IPI's destination (no shorthand) names this APIC (any thread). */
  boolean matches(int dest, dev.toykvm.kernel.irq.DestinationMode mode) {
    synchronized (lapic) {
      return lapic.matchesDestination(dest, mode);
    }
  }

  /** A fixed or lowest-priority IPI: accepted unless the APIC is disabled (any thread). */
  boolean acceptFixed(int vector, TriggerMode trigger) {
    synchronized (lapic) {
      if (!lapic.acceptInterrupt(vector, trigger)) {
        return false;
      }
    }
    wake();
    return true;
  }

  /** An NMI arrives: latched (one pending at most, as on a CPU) until the vCPU takes it. */
  void nmi() {
    nmi = true;
    wake();
  }

  /** An INIT arrives (any thread); the engine thread enters the INIT state at its next look. */
  void init() {
    expectsSipi = true;
    init = true;
    wake();
  }

  /** A start-up IPI arrives; it counts only if the vCPU is (or gets) in the INIT state. */
  void sipi(int vector) {
    if (expectsSipi) {
      sipi = vector & 0xff;
      wake();
    }
  }

  /**
   * Whether a SIPI may count: true while the vCPU waits for its start-up (and from an INIT's
   * arrival), false once it runs; a SIPI to a running vCPU is dropped, as on a CPU.
   */
  void expectSipi(boolean expects) {
    expectsSipi = expects;
    if (!expects) {
      sipi = -1;
    }
  }

  boolean nmiPending() {
    return nmi;
  }

  /** The vCPU is in a {@code hlt} with IF=0 (true), or runs again (false). Engine thread. */
  void haltedIf0(boolean halted) {
    haltedIf0 = halted;
  }

  /**
   * Whether only another vCPU can make this one run again: it waits for a SIPI it has not got, or
   * it is in a {@code hlt} with IF=0 with no NMI or INIT latched. Any thread.
   */
  boolean parked() {
    if (expectsSipi) {
      return sipi < 0;
    }
    return haltedIf0 && !nmi && !init;
  }

  /** The engine delivers the NMI now. */
  void takeNmi() {
    nmi = false;
  }

  boolean initPending() {
    return init;
  }

  /**
   * The engine enters the INIT state: the local APIC is reset as by INIT (its ID kept), and the
   * pending NMI is dropped (as KVM's kvm_vcpu_reset does).
   */
  void takeInit() {
    init = false;
    nmi = false;
    synchronized (lapic) {
      lapic.init();
      deadline = lapic.nextDeadline();
    }
    check = true;
  }

  /**
   * A vCPU waiting for its start-up ({@code KVM_MP_STATE_UNINITIALIZED} or, with {@code
   * initReceived}, {@code KVM_MP_STATE_INIT_RECEIVED}): returns the SIPI's vector (only after an
   * INIT: a SIPI before it is dropped, as in KVM), {@link #EVENT} when an INIT arrives, or -1 as
   * soon as {@code stop} is true.
   */
  int awaitStartup(BooleanSupplier stop, boolean initReceived) throws InterruptedException {
    while (true) {
      if (stop.getAsBoolean()) {
        return -1;
      }
      if (init) {
        return EVENT;
      }
      int vector = sipi;
      if (vector >= 0) {
        if (initReceived) {
          // No longer waiting, before the SIPI is consumed: parked() must never see a vCPU that
          // is starting as one that waits (another vCPU's hlt with IF=0 would end the VM).
          expectsSipi = false;
          sipi = -1;
          return vector;
        }
        sipi = -1;
      }
      await(stop);
    }
  }

  /** Makes the vCPU look for an interrupt, and wakes it if it is halted (any thread). */
  void wake() {
    look();
    synchronized (halt) {
      woken = true;
      halt.notifyAll();
      if (polling) {
        HaltPoller p = poller;
        if (p != null) {
          try {
            p.signal();
          } catch (dev.toykvm.posix.PosixException e) {
            // closed meanwhile: the waiter's epoll_wait fails and it looks again
          }
        }
      }
    }
  }

  /** Irqfds gives this vCPU a poller to wait on in hlt (or takes it away: null). */
  void poller(HaltPoller p, Irqfds owner) {
    synchronized (halt) {
      HaltPoller old = poller;
      pollerOwner = owner;
      poller = p;
      if (polling && old != null && old != p) {
        try {
          old.signal(); // out of its epoll_wait before its fds close
        } catch (dev.toykvm.posix.PosixException e) {
          // already closed
        }
      }
    }
  }

  /**
   * {@code hlt}: waits until an interrupt can be taken (with {@code interruptsEnabled}, RFLAGS.IF;
   * the shadow of an STI before the {@code hlt} has ended) and returns its acknowledged vector;
   * returns {@link #EVENT} for an INIT or an NMI ({@code nmiAllowed}: not blocked), and -1 as soon
   * as {@code stop} (a kick, a close) is true.
   */
  int halt(BooleanSupplier stop, BooleanSupplier interruptsEnabled, BooleanSupplier nmiAllowed)
      throws InterruptedException {
    while (true) {
      if (stop.getAsBoolean()) {
        return -1;
      }
      if (init || (nmi && nmiAllowed.getAsBoolean())) {
        return EVENT;
      }
      if (interruptsEnabled.getAsBoolean() && pending()) {
        int vector = acknowledge();
        if (vector >= 0) {
          return vector;
        }
      }
      await(stop);
    }
  }

  /**
   * The wait of a halted vCPU: until {@link #wake}, {@code stop} is true, or the local APIC timer's
   * or the PIT's deadline (host monotonic clock). Spurious returns are fine: the caller looks again
   * and comes back.
   */
  private void await(BooleanSupplier stop) throws InterruptedException {
    HaltPoller p = poller;
    Irqfds owner = pollerOwner;
    if (p != null && owner != null && p.hasIrqfds()) {
      awaitPolling(stop, p, owner);
      return;
    }
    synchronized (halt) {
      while (!woken && !stop.getAsBoolean()) {
        long wakeAt = Math.min(deadline, chip.pitDeadline());
        long left = wakeAt - System.nanoTime();
        if (wakeAt != Long.MAX_VALUE && left <= 0) {
          break;
        }
        if (wakeAt == Long.MAX_VALUE) {
          halt.wait();
        } else {
          halt.wait(left / 1_000_000, (int) (left % 1_000_000));
        }
      }
      woken = false;
    }
  }

  /**
   * {@link #await} with irqfds: in the poller's {@code epoll_wait}, so that a device's MSI wakes
   * this thread, which injects it itself ({@link HaltPoller}). {@link #wake} signals the poller.
   */
  private void awaitPolling(BooleanSupplier stop, HaltPoller p, Irqfds owner) {
    int timeoutMs;
    synchronized (halt) {
      if (woken || stop.getAsBoolean()) {
        woken = false;
        return;
      }
      long wakeAt = Math.min(deadline, chip.pitDeadline());
      long left = wakeAt - System.nanoTime();
      if (wakeAt != Long.MAX_VALUE && left <= 0) {
        return;
      }
      timeoutMs =
          wakeAt == Long.MAX_VALUE
              ? -1
              : (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
      polling = true;
    }
    try {
      p.await(timeoutMs, owner);
    } catch (RuntimeException e) {
      // The poller was closed under us (the vCPU or the VM is going): look again.
    } finally {
      synchronized (halt) {
        polling = false;
        woken = false;
      }
    }
  }

  /**
   * Whether the in-kernel irqchip serves this port ({@code pio}) or MMIO address: the PICs and
   * ELCR, the PIT if it exists, the I/O APIC window and this vCPU's local APIC page.
   */
  boolean claims(boolean pio, long address) {
    if (pio) {
      return Irqchip.claimsPio((int) address) || chip().claimsPit((int) address);
    }
    return Irqchip.claimsLapic(address) || Irqchip.claimsIoapic(address);
  }

  /** Serves an access {@link #claims} said is the irqchip's; returns a read's value. */
  long access(boolean pio, boolean write, long address, int size, long data) {
    long value;
    if (pio) {
      int port = (int) address;
      value =
          Irqchip.claimsPio(port)
              ? chip().pio(write, port, size, data)
              : chip().pitAccess(write, port, size, data);
    } else {
      value =
          Irqchip.claimsLapic(address)
              ? lapicAccess(write, address, size, data)
              : chip().ioapicAccess(write, address, size, data);
    }
    attention.run(); // a timer, a mask or a priority may have changed: look at the next block
    return value;
  }

  long lapicAccess(boolean write, long address, int size, long data) {
    long offset = address - Lapic.DEFAULT_BASE;
    int eoi;
    long value = 0;
    List<Ipi> sent = List.of();
    synchronized (lapic) {
      if (write) {
        lapic.write(offset, size, data);
      } else {
        value = lapic.read(offset, size);
      }
      deadline = lapic.nextDeadline();
      eoi = levelEois;
      levelEois = -1;
      if (!ipis.isEmpty()) {
        sent = List.copyOf(ipis);
        ipis.clear();
      }
    }
    for (Ipi ipi : sent) {
      chip.ipi(id, ipi);
    }
    if (write) {
      look(); // TPR, EOI, LVT or SPIV may have let a pending interrupt through
    }
    if (eoi >= 0) {
      chip.levelEoi(eoi);
    }
    return value;
  }

  /** {@code KVM_GET_LAPIC}. */
  byte[] getState() {
    synchronized (lapic) {
      return lapic.getState();
    }
  }

  /** {@code KVM_SET_LAPIC} ({@code EINVAL} from the model for a wrong size). */
  void setState(byte[] state) {
    synchronized (lapic) {
      lapic.setState(state);
      deadline = lapic.nextDeadline();
    }
    wake();
  }

  Irqchip chip() {
    return chip;
  }

  /**
   * At a block start: whether an interrupt waits and the CPU can take it ({@code canTake}: IF=1 and
   * no STI/MOV SS shadow, asked only when something is pending); if it cannot, it is looked at
   * again at the next block.
   */
  boolean deliverable(java.util.function.BooleanSupplier canTake) {
    if (!pending()) {
      return false;
    }
    if (!canTake.getAsBoolean()) {
      recheck();
      return false;
    }
    return true;
  }
}
