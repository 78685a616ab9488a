package dev.toykvm.vmm;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Function;

/**
 * A stand-in for the kernel side that plays a script of exits: each step sees what the previous
 * IoIn/MmioRead was answered with, so a test can drive the Machine without a CPU.
 */
final class ScriptedKvm implements Kvm {
  final List<KvmUserspaceMemoryRegion> regions = new ArrayList<>();
  final ConcurrentLinkedDeque<Function<Long, VcpuExit>> script = new ConcurrentLinkedDeque<>();
  volatile Function<Long, VcpuExit> forever;
  long lastAnswer = -1;
  boolean vmClosed;
  boolean vcpuClosed;
  boolean irqchip;
  boolean pit;
  byte[] lapic = new byte[1024];
  KvmRegs regs = KvmRegs.reset();
  KvmSregs sregs = dev.toykvm.vmm.boot.EntryStateTest.RESET;

  /** Adds an exit to the script. */
  ScriptedKvm then(VcpuExit exit) {
    script.add(answer -> exit);
    return this;
  }

  /** Adds a step that sees the answer to the previous read. */
  ScriptedKvm then(Function<Long, VcpuExit> step) {
    script.add(step);
    return this;
  }

  /** After the script, this step repeats forever. */
  ScriptedKvm thenForever(Function<Long, VcpuExit> step) {
    forever = step;
    return this;
  }

  @Override
  public int getApiVersion() {
    return 12;
  }

  @Override
  public int checkExtension(int capability) {
    return 0;
  }

  @Override
  public List<dev.toykvm.kvm.KvmCpuidEntry2> getSupportedCpuid() {
    return List.of();
  }

  /** The CPUID tables the VMM set, by vCPU in creation order. */
  final List<List<dev.toykvm.kvm.KvmCpuidEntry2>> cpuids = new java.util.ArrayList<>();

  /** The ioregions the VMM registered, in order. */
  final List<dev.toykvm.kvm.KvmIoregion> ioregions = new java.util.ArrayList<>();

  @Override
  public VmFd createVm() {
    return new VmFd() {
      @Override
      public int checkExtension(int capability) {
        return 0;
      }

      @Override
      public void setUserMemoryRegion(KvmUserspaceMemoryRegion region) {
        regions.add(region);
      }

      @Override
      public VcpuFd createVcpu(int id) {
        return new Vcpu(id);
      }

      @Override
      public void setIoregion(dev.toykvm.kvm.KvmIoregion region) {
        ioregions.add(region);
      }

      @Override
      public void ioeventfd(dev.toykvm.kvm.KvmIoeventfd ioeventfd) {
        throw new UnsupportedOperationException("ScriptedKvm has no ioeventfd");
      }

      @Override
      public void enableCap(int capability, long arg) {
        throw new UnsupportedOperationException("ScriptedKvm has no capabilities");
      }

      @Override
      public void createIrqchip() {
        irqchip = true;
      }

      @Override
      public void createPit2() {
        pit = true;
      }

      @Override
      public void irqLine(int irq, int level) {
        throw new UnsupportedOperationException("ScriptedKvm has no irqchip");
      }

      @Override
      public void irqfd(dev.toykvm.kvm.KvmIrqfd irqfd) {
        throw new UnsupportedOperationException("ScriptedKvm has no irqchip");
      }

      @Override
      public int signalMsi(dev.toykvm.kvm.KvmMsi msi) {
        throw new UnsupportedOperationException("ScriptedKvm has no irqchip");
      }

      @Override
      public void setGsiRouting(List<dev.toykvm.kvm.KvmIrqRoutingEntry> entries) {
        throw new UnsupportedOperationException("ScriptedKvm has no irqchip");
      }

      @Override
      public List<dev.toykvm.kvm.KvmStat> getStats() {
        return List.of();
      }

      @Override
      public void close() {
        vmClosed = true;
      }
    };
  }

  @Override
  public void close() {}

  private final class Vcpu implements VcpuFd {
    private final int id;

    Vcpu(int id) {
      this.id = id;
    }

    @Override
    public int id() {
      return id;
    }

    @Override
    public VcpuExit run() {
      Function<Long, VcpuExit> step = script.poll();
      if (step == null) {
        step = forever;
      }
      if (step == null) {
        throw new AssertionError("the machine ran past the end of the script");
      }
      VcpuExit exit = step.apply(lastAnswer);
      return switch (exit) {
        case VcpuExit.IoIn in -> new VcpuExit.IoIn(in.port(), in.size(), v -> lastAnswer = v);
        case VcpuExit.MmioRead r ->
            new VcpuExit.MmioRead(r.address(), r.size(), v -> lastAnswer = v);
        default -> exit;
      };
    }

    @Override
    public KvmRegs getRegs() {
      return regs;
    }

    @Override
    public void setRegs(KvmRegs r) {
      regs = r;
    }

    @Override
    public KvmSregs getSregs() {
      return sregs;
    }

    @Override
    public void setSregs(KvmSregs s) {
      sregs = s;
    }

    @Override
    public byte[] getLapic() {
      return lapic.clone();
    }

    @Override
    public void setLapic(byte[] state) {
      lapic = state.clone();
    }

    @Override
    public void interrupt(int vector) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void setRequestInterruptWindow(boolean request) {}

    @Override
    public boolean readyForInterruptInjection() {
      return true;
    }

    @Override
    public boolean ifFlag() {
      return false;
    }

    @Override
    public int getMpState() {
      return 0;
    }

    @Override
    public void setCpuid2(List<dev.toykvm.kvm.KvmCpuidEntry2> entries) {
      cpuids.add(entries);
    }

    @Override
    public void setMpState(int mpState) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void kick() {
      script.addFirst(answer -> new VcpuExit.Intr());
    }

    @Override
    public List<dev.toykvm.kvm.KvmStat> getStats() {
      return List.of();
    }

    @Override
    public void close() {
      vcpuClosed = true;
    }
  }
}
