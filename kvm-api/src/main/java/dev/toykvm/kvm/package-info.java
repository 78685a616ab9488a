/**
 * The uapi of toykvm: {@link dev.toykvm.kvm.Kvm}, {@link dev.toykvm.kvm.VmFd} and {@link
 * dev.toykvm.kvm.VcpuFd} for the ioctls of {@code /dev/kvm}, the KVM structs as records, {@link
 * dev.toykvm.kvm.VcpuExit} for {@code kvm_run}'s exit reasons and {@link
 * dev.toykvm.kvm.KvmConstants} for the numbers of {@code linux/kvm.h} and the x86 register bits. No
 * implementation: the kernel side is found on the class path.
 *
 * <h2 id="porting">Porting C code</h2>
 *
 * <p>The structs are immutable records with the C field names ({@code apic_base} becomes {@code
 * apicBase}). A C assignment to a field becomes a {@code with*} call, one per field, that returns a
 * copy; a nested struct is copied out, changed and put back in the same line. A struct that C
 * clears with {@code memset} or <code>= {0}</code> starts from the record's {@code ZERO} constant
 * ({@link dev.toykvm.kvm.KvmRegs#ZERO}, {@link dev.toykvm.kvm.KvmSegment#ZERO}, {@link
 * dev.toykvm.kvm.KvmUserspaceMemoryRegion#ZERO}, {@link dev.toykvm.kvm.KvmIoregion#ZERO}, {@link
 * dev.toykvm.kvm.KvmIoeventfd#ZERO}). The register and page-table bits of {@link
 * dev.toykvm.kvm.KvmConstants} keep the names of the C macros, so a static import makes the
 * expressions read as in C. kvm-hello-world's long mode, for example:
 *
 * {@snippet :
 * // C:
 * //   ioctl(vcpufd, KVM_GET_SREGS, &sregs);
 * //   sregs.cr3 = pml4_addr;
 * //   sregs.cr4 = CR4_PAE;
 * //   sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
 * //   sregs.efer = EFER_LME | EFER_LMA;
 * //   struct kvm_segment seg = { .base = 0, .limit = 0xffffffff, .selector = 1 << 3,
 * //       .present = 1, .type = 11, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1 };
 * //   sregs.cs = seg;
 * //   seg.type = 3; seg.selector = 2 << 3;
 * //   sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
 * KvmSregs sregs = vcpu.getSregs();
 * sregs = sregs.withCr3(pml4Addr)
 *     .withCr4(X86_CR4_PAE)
 *     .withCr0(X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM
 *         | X86_CR0_PG)
 *     .withEfer(EFER_LME | EFER_LMA);
 * KvmSegment seg = KvmSegment.ZERO.withLimit(0xffff_ffffL).withSelector(1 << 3)
 *     .withPresent(true).withType(11).withS(true).withL(true).withG(true);
 * sregs = sregs.withCs(seg);
 * sregs = sregs.withDataSegments(seg.withType(3).withSelector(2 << 3));
 * vcpu.setSregs(sregs);
 *
 * // C: sregs.cs.base = 0; sregs.cs.selector = 0;
 * sregs = sregs.withCs(sregs.cs().withBase(0).withSelector(0));
 *
 * // C: memset(&regs, 0, sizeof(regs)); regs.rflags = 2; regs.rip = 0; regs.rsp = 2 << 20;
 * vcpu.setRegs(KvmRegs.ZERO.withRflags(X86_EFLAGS_FIXED).withRip(0).withRsp(2 << 20));
 * }
 *
 * <p>{@code PortedExamplesTest} in this module's tests builds the register state of all four
 * kvm-hello-world modes (real, protected, paged, long) this way.
 */
package dev.toykvm.kvm;
