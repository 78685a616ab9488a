package dev.toykvm.kvm;

/**
 * The constants of {@code linux/kvm.h} that toykvm implements, with the kernel's numbers, and the
 * x86 architectural bits a VMM needs to set up a vCPU by hand, with the Intel SDM's values.
 *
 * <p>Naming: every constant has the name of the C macro it mirrors, so that C code ports by a
 * static import.
 *
 * <ul>
 *   <li>{@code KVM_*}: {@code linux/kvm.h}.
 *   <li>{@code X86_CR0_*}, {@code X86_CR4_*}, {@code X86_EFLAGS_*}: the Linux uapi header {@code
 *       asm/processor-flags.h} ({@code X86_EFLAGS_FIXED} is the always-one bit 1, {@code
 *       X86_EFLAGS_IOPL} the two-bit IOPL mask). kvm-hello-world spells these {@code CR0_PE},
 *       {@code CR4_PAE}: add the {@code X86_} prefix when porting.
 *   <li>{@code EFER_*}: Linux's {@code asm/msr-index.h}, which kvm-hello-world shares; the
 *       no-execute bit is there both as Linux's {@code EFER_NX} and kvm-hello-world's {@code
 *       EFER_NXE}.
 *   <li>{@code PDE64_*}: kvm-hello-world's names for the bits of 64-bit paging-structure entries
 *       (PML4E, PDPTE, PDE, PTE), extended to the bits it does not name ({@code PDE64_PWT}, {@code
 *       PDE64_PCD}, {@code PDE64_NX}). Linux's own {@code _PAGE_*} are not uapi.
 * </ul>
 *
 * <p>All register and page-table bits are {@code long}, so that they combine with {@link
 * KvmSregs#cr0()}, {@link KvmRegs#rflags()} and 64-bit table entries without sign extension.
 */
public final class KvmConstants {
  private KvmConstants() {}

  /** {@code KVM_GET_API_VERSION} answers this, as every Linux since 2.6.22 does. */
  public static final int KVM_API_VERSION = 12;

  // Exit reasons (kvm_run.exit_reason).
  public static final int KVM_EXIT_UNKNOWN = 0;
  public static final int KVM_EXIT_EXCEPTION = 1;
  public static final int KVM_EXIT_IO = 2;
  public static final int KVM_EXIT_HYPERCALL = 3;
  public static final int KVM_EXIT_DEBUG = 4;
  public static final int KVM_EXIT_HLT = 5;
  public static final int KVM_EXIT_MMIO = 6;
  public static final int KVM_EXIT_IRQ_WINDOW_OPEN = 7;
  public static final int KVM_EXIT_SHUTDOWN = 8;
  public static final int KVM_EXIT_FAIL_ENTRY = 9;
  public static final int KVM_EXIT_INTR = 10;
  public static final int KVM_EXIT_INTERNAL_ERROR = 17;

  /**
   * An ioregionfd access failed (the device closed its pipe, died, stalled or answered garbage).
   * The RFC left this exit as a TODO; the number is toykvm's own, chosen above every exit reason
   * that Linux has used so far.
   */
  public static final int KVM_EXIT_IOREGIONFD_FAILURE = 0x1000;

  // kvm_run.io.direction
  public static final int KVM_EXIT_IO_IN = 0;
  public static final int KVM_EXIT_IO_OUT = 1;

  // kvm_run.internal.suberror
  public static final int KVM_INTERNAL_ERROR_EMULATION = 1;
  public static final int KVM_INTERNAL_ERROR_SIMUL_EX = 2;
  public static final int KVM_INTERNAL_ERROR_DELIVERY_EV = 3;
  public static final int KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

  // Capabilities (KVM_CHECK_EXTENSION).
  public static final int KVM_CAP_IRQCHIP = 0;
  public static final int KVM_CAP_HLT = 1;
  public static final int KVM_CAP_USER_MEMORY = 3;
  public static final int KVM_CAP_SET_TSS_ADDR = 4;
  public static final int KVM_CAP_EXT_CPUID = 7;
  public static final int KVM_CAP_NR_VCPUS = 9;
  public static final int KVM_CAP_NR_MEMSLOTS = 10;
  public static final int KVM_CAP_SYNC_MMU = 16;
  public static final int KVM_CAP_IOEVENTFD = 36;
  public static final int KVM_CAP_IRQFD = 32;
  public static final int KVM_CAP_READONLY_MEM = 81;
  public static final int KVM_CAP_IMMEDIATE_EXIT = 136;
  public static final int KVM_CAP_MAX_VCPUS = 66;
  public static final int KVM_CAP_IRQ_ROUTING = 25;
  public static final int KVM_CAP_IRQ_INJECT_STATUS = 26;
  public static final int KVM_CAP_PIT2 = 33;
  public static final int KVM_CAP_MP_STATE = 14;
  public static final int KVM_CAP_SIGNAL_MSI = 77;
  public static final int KVM_CAP_IRQFD_RESAMPLE = 82;

  /**
   * {@code KVM_CAP_IOREGIONFD}: 191 in the RFC patches of 2021 (later private copies used 195 and
   * 206; none was ever merged).
   */
  public static final int KVM_CAP_IOREGIONFD = 191;

  /**
   * toykvm's own capability, enabled with {@link VmFd#enableCap}: with an in-kernel irqchip, a
   * {@code hlt} executed with RFLAGS.IF=0 returns {@link VcpuExit.Hlt} instead of waiting in the
   * kernel side (where only a kick, or an NMI or INIT the VMM's machine may not have, ends it), if
   * no other vCPU can still send that NMI or INIT: every vCPU of the VM is then in such a {@code
   * hlt} (none with an NMI or INIT latched) or waits for a SIPI. Otherwise it waits, as KVM's
   * would, and the vCPU that parks last reports it. The vCPU is then {@code KVM_MP_STATE_HALTED},
   * and the next {@code run()} waits as KVM would. A number far above KVM's, like {@link
   * #KVM_EXIT_IOREGIONFD_FAILURE}.
   */
  public static final int KVM_CAP_TOYKVM_HLT_IF0_EXIT = 0x1001;

  // kvm_mp_state.mp_state (KVM_GET_MP_STATE / KVM_SET_MP_STATE)
  public static final int KVM_MP_STATE_RUNNABLE = 0;
  public static final int KVM_MP_STATE_UNINITIALIZED = 1;
  public static final int KVM_MP_STATE_INIT_RECEIVED = 2;
  public static final int KVM_MP_STATE_HALTED = 3;
  public static final int KVM_MP_STATE_SIPI_RECEIVED = 4;

  /** The size of {@code struct kvm_lapic_state}: the local APIC's register page, 1 KiB. */
  public static final int KVM_APIC_REG_SIZE = 0x400;

  // kvm_userspace_memory_region.flags
  public static final int KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
  public static final int KVM_MEM_READONLY = 1 << 1;

  // kvm_ioregion.flags (RFC v3)
  public static final int KVM_IOREGION_PIO = 1 << 0;
  public static final int KVM_IOREGION_POSTED_WRITES = 1 << 1;
  public static final int KVM_IOREGION_DEASSIGN = 1 << 2;

  // kvm_ioeventfd.flags
  public static final int KVM_IOEVENTFD_FLAG_DATAMATCH = 1 << 0;
  public static final int KVM_IOEVENTFD_FLAG_PIO = 1 << 1;
  public static final int KVM_IOEVENTFD_FLAG_DEASSIGN = 1 << 2;

  // kvm_irqfd.flags
  public static final int KVM_IRQFD_FLAG_DEASSIGN = 1 << 0;
  public static final int KVM_IRQFD_FLAG_RESAMPLE = 1 << 1;

  // kvm_irq_routing_entry.type
  public static final int KVM_IRQ_ROUTING_IRQCHIP = 1;
  public static final int KVM_IRQ_ROUTING_MSI = 2;

  // kvm_irq_routing_irqchip.irqchip
  public static final int KVM_IRQCHIP_PIC_MASTER = 0;
  public static final int KVM_IRQCHIP_PIC_SLAVE = 1;
  public static final int KVM_IRQCHIP_IOAPIC = 2;

  /** {@code kvm_msi.flags} and an MSI route's {@code flags}: {@code devid} is valid. */
  public static final int KVM_MSI_VALID_DEVID = 1 << 0;

  /**
   * {@code KVM_MAX_IRQ_ROUTES} (kernel-internal, what {@code KVM_CAP_IRQ_ROUTING} answers): the
   * most entries a routing table may have, and the bound every GSI in it must stay under.
   */
  public static final int KVM_MAX_IRQ_ROUTES = 4096;

  /** {@code kvm_cpuid_entry2.flags}: the entry is for one subleaf, {@code index}. */
  public static final int KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1 << 0;

  /** {@code KVM_MAX_CPUID_ENTRIES}: the most entries {@code KVM_SET_CPUID2} takes. */
  public static final int KVM_MAX_CPUID_ENTRIES = 256;

  // CR0 bits (Intel SDM Vol. 3A, 2.5 "Control Registers").
  /** Protection Enable: protected mode. */
  public static final long X86_CR0_PE = 1L << 0;

  /** Monitor Coprocessor: {@code WAIT} honours {@code TS}. */
  public static final long X86_CR0_MP = 1L << 1;

  /** Emulation: x87 instructions raise #NM. */
  public static final long X86_CR0_EM = 1L << 2;

  /** Task Switched: the next x87/SSE instruction raises #NM. */
  public static final long X86_CR0_TS = 1L << 3;

  /** Extension Type: an x87 is present (hard-wired to 1 on modern CPUs). */
  public static final long X86_CR0_ET = 1L << 4;

  /** Numeric Error: native x87 error reporting (#MF). */
  public static final long X86_CR0_NE = 1L << 5;

  /** Write Protect: ring 0 honours read-only pages. */
  public static final long X86_CR0_WP = 1L << 16;

  /** Alignment Mask: with {@code X86_EFLAGS_AC}, alignment checks at ring 3. */
  public static final long X86_CR0_AM = 1L << 18;

  /** Not Write-through (cache control). */
  public static final long X86_CR0_NW = 1L << 29;

  /** Cache Disable. */
  public static final long X86_CR0_CD = 1L << 30;

  /** Paging: enables paging (needs {@code X86_CR0_PE}). */
  public static final long X86_CR0_PG = 1L << 31;

  // CR4 bits (Intel SDM Vol. 3A, 2.5 "Control Registers").
  /** Virtual-8086 Mode Extensions. */
  public static final long X86_CR4_VME = 1L << 0;

  /** Protected-mode Virtual Interrupts. */
  public static final long X86_CR4_PVI = 1L << 1;

  /** Time Stamp Disable: {@code RDTSC} only at ring 0. */
  public static final long X86_CR4_TSD = 1L << 2;

  /** Debugging Extensions. */
  public static final long X86_CR4_DE = 1L << 3;

  /** Page Size Extensions: 4 MiB pages in 32-bit paging. */
  public static final long X86_CR4_PSE = 1L << 4;

  /** Physical Address Extension: PAE paging; required for long mode. */
  public static final long X86_CR4_PAE = 1L << 5;

  /** Machine-Check Enable. */
  public static final long X86_CR4_MCE = 1L << 6;

  /** Page Global Enable: honours {@code PDE64_G}. */
  public static final long X86_CR4_PGE = 1L << 7;

  /** Performance-monitoring Counter Enable: {@code RDPMC} at any ring. */
  public static final long X86_CR4_PCE = 1L << 8;

  /** OS supports {@code FXSAVE}/{@code FXRSTOR} (enables SSE). */
  public static final long X86_CR4_OSFXSR = 1L << 9;

  /** OS handles unmasked SIMD floating-point exceptions (#XM). */
  public static final long X86_CR4_OSXMMEXCPT = 1L << 10;

  /** User-Mode Instruction Prevention. */
  public static final long X86_CR4_UMIP = 1L << 11;

  /** 57-bit linear addresses (5-level paging). */
  public static final long X86_CR4_LA57 = 1L << 12;

  /** VMX Enable. */
  public static final long X86_CR4_VMXE = 1L << 13;

  /** SMX Enable. */
  public static final long X86_CR4_SMXE = 1L << 14;

  /** Enables {@code RDFSBASE}/{@code WRFSBASE} and friends. */
  public static final long X86_CR4_FSGSBASE = 1L << 16;

  /** Process-Context Identifiers Enable. */
  public static final long X86_CR4_PCIDE = 1L << 17;

  /** OS supports {@code XSAVE} and processor extended states. */
  public static final long X86_CR4_OSXSAVE = 1L << 18;

  /** Supervisor-Mode Execution Prevention. */
  public static final long X86_CR4_SMEP = 1L << 20;

  /** Supervisor-Mode Access Prevention. */
  public static final long X86_CR4_SMAP = 1L << 21;

  /** Protection Keys for user-mode pages. */
  public static final long X86_CR4_PKE = 1L << 22;

  // IA32_EFER (MSR 0xc0000080) bits (Intel SDM Vol. 3A, 2.2.1).
  /** System Call Extensions: enables {@code SYSCALL}/{@code SYSRET}. */
  public static final long EFER_SCE = 1L << 0;

  /** Long Mode Enable. */
  public static final long EFER_LME = 1L << 8;

  /**
   * Long Mode Active (set by the CPU when paging is enabled with {@code EFER_LME}; KVM takes it
   * from {@code KVM_SET_SREGS}).
   */
  public static final long EFER_LMA = 1L << 10;

  /** No-Execute Enable: honours {@code PDE64_NX} (the SDM's NXE; Linux's name). */
  public static final long EFER_NX = 1L << 11;

  /** The same bit as {@link #EFER_NX}, under the SDM's and kvm-hello-world's name. */
  public static final long EFER_NXE = EFER_NX;

  // RFLAGS bits (Intel SDM Vol. 1, 3.4.3 "EFLAGS Register").
  /** Carry flag. */
  public static final long X86_EFLAGS_CF = 1L << 0;

  /** Bit 1, reserved and always one ({@code regs.rflags = 2} in C). */
  public static final long X86_EFLAGS_FIXED = 1L << 1;

  /** Parity flag. */
  public static final long X86_EFLAGS_PF = 1L << 2;

  /** Auxiliary carry flag. */
  public static final long X86_EFLAGS_AF = 1L << 4;

  /** Zero flag. */
  public static final long X86_EFLAGS_ZF = 1L << 6;

  /** Sign flag. */
  public static final long X86_EFLAGS_SF = 1L << 7;

  /** Trap flag (single-step). */
  public static final long X86_EFLAGS_TF = 1L << 8;

  /** Interrupt enable flag. */
  public static final long X86_EFLAGS_IF = 1L << 9;

  /** Direction flag. */
  public static final long X86_EFLAGS_DF = 1L << 10;

  /** Overflow flag. */
  public static final long X86_EFLAGS_OF = 1L << 11;

  /** I/O privilege level: a two-bit field (bits 12-13), a mask rather than a bit. */
  public static final long X86_EFLAGS_IOPL = 3L << 12;

  /** Nested task flag. */
  public static final long X86_EFLAGS_NT = 1L << 14;

  /** Resume flag. */
  public static final long X86_EFLAGS_RF = 1L << 16;

  /** Virtual-8086 mode. */
  public static final long X86_EFLAGS_VM = 1L << 17;

  /** Alignment check (with {@code X86_CR0_AM}) / access control for SMAP. */
  public static final long X86_EFLAGS_AC = 1L << 18;

  /** Virtual interrupt flag. */
  public static final long X86_EFLAGS_VIF = 1L << 19;

  /** Virtual interrupt pending. */
  public static final long X86_EFLAGS_VIP = 1L << 20;

  /** ID flag: software can toggle it if {@code CPUID} exists. */
  public static final long X86_EFLAGS_ID = 1L << 21;

  // Paging-structure entry bits (Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging"),
  // as kvm-hello-world names them. Bits 0-8 are the same in 32-bit paging entries.
  /** Present (P). */
  public static final long PDE64_PRESENT = 1L << 0;

  /** Read/write: writes allowed (R/W). */
  public static final long PDE64_RW = 1L << 1;

  /** User/supervisor: ring 3 may access (U/S). */
  public static final long PDE64_USER = 1L << 2;

  /** Page-level write-through. */
  public static final long PDE64_PWT = 1L << 3;

  /** Page-level cache disable. */
  public static final long PDE64_PCD = 1L << 4;

  /** Accessed (A), set by the CPU. */
  public static final long PDE64_ACCESSED = 1L << 5;

  /** Dirty (D), set by the CPU on a write; leaf entries only. */
  public static final long PDE64_DIRTY = 1L << 6;

  /**
   * Page size: this PDPTE or PDE maps a 1 GiB or 2 MiB page (in a 4 KiB PTE, bit 7 is PAT instead).
   */
  public static final long PDE64_PS = 1L << 7;

  /**
   * Global (G): kept in the TLB across CR3 loads when {@code X86_CR4_PGE} is set; leaf entries
   * only.
   */
  public static final long PDE64_G = 1L << 8;

  /** Execute-disable (XD/NX): needs {@code EFER_NX}; 64-bit (PAE and 4/5-level) entries only. */
  public static final long PDE64_NX = 1L << 63;

  /** The architectural page size; slots must be aligned to it. */
  public static final long PAGE_SIZE = 4096;
}
