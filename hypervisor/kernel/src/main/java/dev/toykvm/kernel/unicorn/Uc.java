package dev.toykvm.kernel.unicorn;

/**
 * The numbers from Debian's {@code unicorn/unicorn.h} and {@code unicorn/x86.h} (2.0.1) that toykvm
 * uses. Only what is needed; each group mirrors one C enum.
 */
public final class Uc {
  private Uc() {}

  public static final int ARCH_X86 = 4;
  public static final int MODE_64 = 1 << 3;

  // uc_err
  public static final int ERR_OK = 0;
  public static final int ERR_READ_UNMAPPED = 6;
  public static final int ERR_WRITE_UNMAPPED = 7;
  public static final int ERR_FETCH_UNMAPPED = 8;
  public static final int ERR_INSN_INVALID = 10;
  public static final int ERR_MAP = 11;
  public static final int ERR_WRITE_PROT = 12;
  public static final int ERR_READ_PROT = 13;
  public static final int ERR_FETCH_PROT = 14;
  public static final int ERR_EXCEPTION = 21;

  // uc_prot
  public static final int PROT_READ = 1;
  public static final int PROT_WRITE = 2;
  public static final int PROT_EXEC = 4;
  public static final int PROT_ALL = 7;

  // uc_hook_type
  public static final int HOOK_INTR = 1 << 0;
  public static final int HOOK_INSN = 1 << 1;
  public static final int HOOK_CODE = 1 << 2;
  public static final int HOOK_BLOCK = 1 << 3;
  public static final int HOOK_MEM_READ_UNMAPPED = 1 << 4;
  public static final int HOOK_MEM_WRITE_UNMAPPED = 1 << 5;
  public static final int HOOK_MEM_FETCH_UNMAPPED = 1 << 6;
  public static final int HOOK_MEM_READ_PROT = 1 << 7;
  public static final int HOOK_MEM_WRITE_PROT = 1 << 8;
  public static final int HOOK_MEM_FETCH_PROT = 1 << 9;
  public static final int HOOK_MEM_READ = 1 << 10;
  public static final int HOOK_MEM_WRITE = 1 << 11;
  public static final int HOOK_EDGE_GENERATED = 1 << 15; // a block translated after another

  // uc_mem_type
  public static final int MEM_READ = 16;
  public static final int MEM_WRITE = 17;
  public static final int MEM_FETCH = 18;
  public static final int MEM_READ_UNMAPPED = 19;
  public static final int MEM_WRITE_UNMAPPED = 20;
  public static final int MEM_FETCH_UNMAPPED = 21;
  public static final int MEM_WRITE_PROT = 22;

  // uc_x86_insn (for HOOK_INSN)
  public static final int X86_INS_CPUID = 113;
  public static final int X86_INS_IN = 218;
  public static final int X86_INS_OUT = 500;

  // uc_control_type encodings (UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2), UC_CTL_WRITE(TB_FLUSH, 0))
  public static final int CTL_TB_REMOVE_CACHE = 0x48000009;
  public static final int CTL_TB_FLUSH = 0x4000000a;

  // uc_x86_reg
  public static final int X86_REG_CS = 11;
  public static final int X86_REG_DS = 17;
  public static final int X86_REG_EFLAGS = 25;
  public static final int X86_REG_ES = 28;
  public static final int X86_REG_FS = 32;
  public static final int X86_REG_GS = 33;
  public static final int X86_REG_RAX = 35;
  public static final int X86_REG_RBP = 36;
  public static final int X86_REG_RBX = 37;
  public static final int X86_REG_RCX = 38;
  public static final int X86_REG_RDI = 39;
  public static final int X86_REG_RDX = 40;
  public static final int X86_REG_RIP = 41;
  public static final int X86_REG_RSI = 43;
  public static final int X86_REG_RSP = 44;
  public static final int X86_REG_SS = 49;
  public static final int X86_REG_CR0 = 50;
  public static final int X86_REG_CR2 = 52;
  public static final int X86_REG_CR3 = 53;
  public static final int X86_REG_CR4 = 54;
  public static final int X86_REG_CR8 = 58;
  public static final int X86_REG_R8 = 106;
  public static final int X86_REG_IDTR = 242;
  public static final int X86_REG_GDTR = 243;
  public static final int X86_REG_LDTR = 244;
  public static final int X86_REG_TR = 245;
  public static final int X86_REG_MSR = 248;
  public static final int X86_REG_FS_BASE = 250;
  public static final int X86_REG_GS_BASE = 251;
  public static final int X86_REG_RFLAGS = 253;

  /** Unicorn's register ids in {@code struct kvm_regs} order (R8..R15 are consecutive). */
  public static final int[] KVM_REGS_ORDER = {
    X86_REG_RAX,
    X86_REG_RBX,
    X86_REG_RCX,
    X86_REG_RDX,
    X86_REG_RSI,
    X86_REG_RDI,
    X86_REG_RSP,
    X86_REG_RBP,
    X86_REG_R8,
    X86_REG_R8 + 1,
    X86_REG_R8 + 2,
    X86_REG_R8 + 3,
    X86_REG_R8 + 4,
    X86_REG_R8 + 5,
    X86_REG_R8 + 6,
    X86_REG_R8 + 7,
    X86_REG_RIP,
    X86_REG_RFLAGS
  };

  public static final int MSR_EFER = 0xc0000080;
}
