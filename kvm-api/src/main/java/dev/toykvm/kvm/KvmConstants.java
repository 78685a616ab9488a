package dev.toykvm.kvm;

/** The constants of {@code linux/kvm.h} that toykvm implements, with the kernel's numbers. */
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

  /**
   * {@code KVM_CAP_IOREGIONFD}: 191 in the RFC patches of 2021 (later private copies used 195 and
   * 206; none was ever merged).
   */
  public static final int KVM_CAP_IOREGIONFD = 191;

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

  // Control register and EFER bits a VMM needs to set up a vCPU by hand.
  public static final long X86_CR0_PE = 1L << 0;
  public static final long X86_CR0_MP = 1L << 1;
  public static final long X86_CR0_ET = 1L << 4;
  public static final long X86_CR0_NE = 1L << 5;
  public static final long X86_CR0_WP = 1L << 16;
  public static final long X86_CR0_PG = 1L << 31;
  public static final long X86_CR4_PAE = 1L << 5;
  public static final long EFER_SCE = 1L << 0;
  public static final long EFER_LME = 1L << 8;
  public static final long EFER_LMA = 1L << 10;
  public static final long EFER_NX = 1L << 11;

  /** The architectural page size; slots must be aligned to it. */
  public static final long PAGE_SIZE = 4096;
}
