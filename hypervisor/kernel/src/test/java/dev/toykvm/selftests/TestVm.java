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

  final Kvm kvm;
  final VmFd vm;
  private final boolean ownsVm;
  final Arena arena = Arena.ofShared();
  final MemorySegment ram = arena.allocate(RAM_SIZE, 4096);
  final VcpuFd vcpu;

  /** A GDT at 0x4000: null, 0x08 flat 32-bit code, 0x10 flat data, 0x18 64-bit code. */
  static final long GDT = 0x4000;

  static final KvmDtable GDTR = new KvmDtable(GDT, 4 * 8 - 1);

  TestVm() {
    this(null);
  }

  /** A test VM on {@code existing} (which the caller keeps and closes), or a new VM if null. */
  TestVm(VmFd existing) {
    ownsVm = existing == null;
    kvm = ownsVm ? Kvm.open() : null;
    vm = ownsVm ? kvm.createVm() : existing;
    vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, RAM_SIZE, ram));
    vcpu = vm.createVcpu(0);
    ram.set(ValueLayout.JAVA_LONG, GDT + 0x08, 0x00cf_9b00_0000_ffffL);
    ram.set(ValueLayout.JAVA_LONG, GDT + 0x10, 0x00cf_9300_0000_ffffL);
    ram.set(ValueLayout.JAVA_LONG, GDT + 0x18, 0x00af_9b00_0000_ffffL);
  }

  /** Writes a 64-bit interrupt gate for {@code vector} into an IDT at {@code idt}. */
  void gate64(long idt, int vector, long handler) {
    long lo = (handler & 0xffff) | 0x18L << 16 | 0x8eL << 40 | ((handler >>> 16) & 0xffff) << 48;
    ram.set(ValueLayout.JAVA_LONG, idt + vector * 16L, lo);
    ram.set(ValueLayout.JAVA_LONG, idt + vector * 16L + 8, handler >>> 32);
  }

  /** Writes a 32-bit interrupt gate for {@code vector} into an IDT at {@code idt}. */
  void gate32(long idt, int vector, long handler) {
    long lo = (handler & 0xffff) | 0x08L << 16 | 0x8eL << 40 | ((handler >>> 16) & 0xffff) << 48;
    ram.set(ValueLayout.JAVA_LONG, idt + vector * 8L, lo);
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

  /** Real mode at {@code cs}:{@code ip}, data segments 0, SS:SP = 0000:8000. */
  void realMode(int cs, long ip) {
    realMode(ip);
    vcpu.setSregs(vcpu.getSregs().withCs(KvmSegment.realMode(cs, true)));
  }

  /** 32-bit flat protected mode without paging, with the given IDT. */
  void protectedMode(long rip, KvmDtable idt) {
    KvmSregs s = vcpu.getSregs();
    vcpu.setSregs(
        s.withCs(KvmSegment.flat32(0x8, true))
            .withDataSegments(KvmSegment.flat32(0x10, false))
            .withTables(GDTR, idt)
            .withControl(X86_CR0_PE, 0, 0, 0));
    vcpu.setRegs(vcpu.getRegs().withRip(rip).withRsp(0x8000).withRflags(2));
  }

  /** 64-bit mode, the first 1 GiB identity-mapped with 2 MiB pages. */
  void longMode(long rip) {
    longMode(rip, new KvmDtable(0, 0));
  }

  /** 64-bit mode with the given IDT. */
  void longMode(long rip, KvmDtable idt) {
    longMode(vcpu, rip, idt);
  }

  /** Puts any vCPU of this VM in 64-bit mode (see {@link #longMode(long)}). */
  void longMode(VcpuFd vcpu, long rip, KvmDtable idt) {
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
        s.withCs(KvmSegment.long64(0x18, true))
            .withDataSegments(KvmSegment.long64(0x10, false))
            .withTables(GDTR, idt)
            .withControl(X86_CR0_PE | X86_CR0_PG, pml4, X86_CR4_PAE, EFER_LME | EFER_LMA));
    vcpu.setRegs(vcpu.getRegs().withRip(rip).withRsp(0x8000).withRflags(2));
  }

  @Override
  public void close() {
    if (ownsVm) {
      vm.close();
      kvm.close();
    } else {
      vcpu.close();
    }
    arena.close();
  }
}
