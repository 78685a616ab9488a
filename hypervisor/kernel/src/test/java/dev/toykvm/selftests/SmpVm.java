package dev.toykvm.selftests;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** A VM with 4 MiB of RAM and {@code n} vCPUs, optionally with the in-kernel irqchip. */
final class SmpVm implements AutoCloseable {
  final Kvm kvm = Kvm.open();
  final VmFd vm = kvm.createVm();
  final Arena arena = Arena.ofShared();
  final MemorySegment ram = arena.allocate(4 << 20, 4096);
  final List<VcpuFd> vcpus = new ArrayList<>();

  /** The GDT at 0x4000: null, 0x08 flat 32-bit code, 0x10 flat data. */
  static final KvmDtable GDTR = new KvmDtable(0x4000, 3 * 8 - 1);

  SmpVm(int n, boolean irqchip) {
    if (irqchip) {
      vm.createIrqchip();
    }
    vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, ram.byteSize(), ram));
    ram.set(ValueLayout.JAVA_LONG, 0x4008, 0x00cf_9b00_0000_ffffL);
    ram.set(ValueLayout.JAVA_LONG, 0x4010, 0x00cf_9300_0000_ffffL);
    for (int i = 0; i < n; i++) {
      vcpus.add(vm.createVcpu(i));
    }
  }

  VcpuFd vcpu(int i) {
    return vcpus.get(i);
  }

  void load(long address, int... code) {
    for (int i = 0; i < code.length; i++) {
      ram.set(ValueLayout.JAVA_BYTE, address + i, (byte) code[i]);
    }
  }

  int read32(long address) {
    return ram.get(ValueLayout.JAVA_INT, address);
  }

  void write32(long address, int value) {
    ram.set(ValueLayout.JAVA_INT, address, value);
  }

  /** Writes a 32-bit interrupt gate into the IDT at {@code idt}. */
  void gate32(long idt, int vector, long handler) {
    long lo = (handler & 0xffff) | 0x08L << 16 | 0x8eL << 40 | ((handler >>> 16) & 0xffff) << 48;
    ram.set(ValueLayout.JAVA_LONG, idt + vector * 8L, lo);
  }

  /** Flat 32-bit protected mode at {@code rip}, stack at {@code rsp}, RFLAGS {@code rflags}. */
  void protectedMode(int i, long rip, long rsp, KvmDtable idt, long rflags) {
    VcpuFd v = vcpu(i);
    v.setSregs(
        v.getSregs()
            .withCs(KvmSegment.flat32(0x8, true))
            .withDataSegments(KvmSegment.flat32(0x10, false))
            .withTables(GDTR, idt)
            .withControl(1, 0, 0, 0));
    v.setRegs(v.getRegs().withRip(rip).withRsp(rsp).withRflags(rflags));
  }

  @Override
  public void close() {
    vm.close();
    kvm.close();
    arena.close();
  }
}
