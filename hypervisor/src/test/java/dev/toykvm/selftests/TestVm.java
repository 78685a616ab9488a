package dev.toykvm.selftests;

import static dev.toykvm.kvm.KvmConstants.EFER_LMA;
import static dev.toykvm.kvm.KvmConstants.EFER_LME;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PE;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PG;
import static dev.toykvm.kvm.KvmConstants.X86_CR4_PAE;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A VM with 4 MiB of RAM at guest-physical 0 and one vCPU, for tests in the style of the KVM
 * selftests: load hand-assembled code, put the vCPU in the wanted mode with KVM_SET_SREGS, run.
 */
final class TestVm implements AutoCloseable {
  static final long RAM_SIZE = 4 << 20;
  static final long PAGE_TABLES = 0x200000;

  final Kvm kvm = Kvm.open();
  final VmFd vm = kvm.createVm();
  final Arena arena = Arena.ofShared();
  final MemorySegment ram = arena.allocate(RAM_SIZE, 4096);
  final VcpuFd vcpu;

  TestVm() {
    vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, RAM_SIZE, ram));
    vcpu = vm.createVcpu(0);
  }

  /** Copies code (given as unsigned byte values) into RAM. */
  void load(long address, int... code) {
    for (int i = 0; i < code.length; i++) {
      ram.set(ValueLayout.JAVA_BYTE, address + i, (byte) code[i]);
    }
  }

  /** Real mode with CS = DS = ... = 0, at IP {@code rip}. */
  void realMode(long rip) {
    KvmSregs s = vcpu.getSregs();
    vcpu.setSregs(
        s.withCs(KvmSegment.realMode(0, true))
            .withDataSegments(KvmSegment.realMode(0, false))
            .withTables(new KvmDtable(0, 0xffff), new KvmDtable(0, 0x3ff)));
    vcpu.setRegs(vcpu.getRegs().withRip(rip).withRsp(0x8000).withRflags(2));
  }

  /** 32-bit flat protected mode without paging, with the given IDT. */
  void protectedMode(long rip, KvmDtable idt) {
    KvmSregs s = vcpu.getSregs();
    vcpu.setSregs(
        s.withCs(KvmSegment.flat32(0x8, true))
            .withDataSegments(KvmSegment.flat32(0x10, false))
            .withTables(new KvmDtable(0, 0), idt)
            .withControl(X86_CR0_PE, 0, 0, 0));
    vcpu.setRegs(vcpu.getRegs().withRip(rip).withRsp(0x8000).withRflags(2));
  }

  /** 64-bit mode, the first 1 GiB identity-mapped with 2 MiB pages. */
  void longMode(long rip) {
    long pml4 = PAGE_TABLES;
    long pdpt = PAGE_TABLES + 0x1000;
    long pd = PAGE_TABLES + 0x2000;
    ram.set(ValueLayout.JAVA_LONG, pml4, pdpt | 0x3);
    ram.set(ValueLayout.JAVA_LONG, pdpt, pd | 0x3);
    for (long i = 0; i < 512; i++) {
      ram.set(ValueLayout.JAVA_LONG, pd + i * 8, (i << 21) | 0x83);
    }
    KvmSregs s = vcpu.getSregs();
    vcpu.setSregs(
        s.withCs(KvmSegment.long64(0x8, true))
            .withDataSegments(KvmSegment.long64(0x10, false))
            .withTables(new KvmDtable(0, 0), new KvmDtable(0, 0))
            .withControl(X86_CR0_PE | X86_CR0_PG, pml4, X86_CR4_PAE, EFER_LME | EFER_LMA));
    vcpu.setRegs(vcpu.getRegs().withRip(rip).withRsp(0x8000).withRflags(2));
  }

  @Override
  public void close() {
    vm.close();
    kvm.close();
    arena.close();
  }
}
