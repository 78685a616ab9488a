package dev.toykvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The x86 bits of {@link KvmConstants} against the Intel SDM's numbers: CR0 and CR4 (Vol. 3A, 2.5),
 * IA32_EFER (Vol. 3A, 2.2.1), RFLAGS (Vol. 1, 3.4.3) and paging-structure entries (Vol. 3A, 4.5).
 */
class KvmConstantsTest {

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource({
    // CR0
    "X86_CR0_PE, 0x00000001",
    "X86_CR0_MP, 0x00000002",
    "X86_CR0_EM, 0x00000004",
    "X86_CR0_TS, 0x00000008",
    "X86_CR0_ET, 0x00000010",
    "X86_CR0_NE, 0x00000020",
    "X86_CR0_WP, 0x00010000",
    "X86_CR0_AM, 0x00040000",
    "X86_CR0_NW, 0x20000000",
    "X86_CR0_CD, 0x40000000",
    "X86_CR0_PG, 0x80000000",
    // CR4
    "X86_CR4_VME, 0x00000001",
    "X86_CR4_PVI, 0x00000002",
    "X86_CR4_TSD, 0x00000004",
    "X86_CR4_DE, 0x00000008",
    "X86_CR4_PSE, 0x00000010",
    "X86_CR4_PAE, 0x00000020",
    "X86_CR4_MCE, 0x00000040",
    "X86_CR4_PGE, 0x00000080",
    "X86_CR4_PCE, 0x00000100",
    "X86_CR4_OSFXSR, 0x00000200",
    "X86_CR4_OSXMMEXCPT, 0x00000400",
    "X86_CR4_UMIP, 0x00000800",
    "X86_CR4_LA57, 0x00001000",
    "X86_CR4_VMXE, 0x00002000",
    "X86_CR4_SMXE, 0x00004000",
    "X86_CR4_FSGSBASE, 0x00010000",
    "X86_CR4_PCIDE, 0x00020000",
    "X86_CR4_OSXSAVE, 0x00040000",
    "X86_CR4_SMEP, 0x00100000",
    "X86_CR4_SMAP, 0x00200000",
    "X86_CR4_PKE, 0x00400000",
    // IA32_EFER
    "EFER_SCE, 0x00000001",
    "EFER_LME, 0x00000100",
    "EFER_LMA, 0x00000400",
    "EFER_NX, 0x00000800",
    "EFER_NXE, 0x00000800",
    // RFLAGS
    "X86_EFLAGS_CF, 0x00000001",
    "X86_EFLAGS_FIXED, 0x00000002",
    "X86_EFLAGS_PF, 0x00000004",
    "X86_EFLAGS_AF, 0x00000010",
    "X86_EFLAGS_ZF, 0x00000040",
    "X86_EFLAGS_SF, 0x00000080",
    "X86_EFLAGS_TF, 0x00000100",
    "X86_EFLAGS_IF, 0x00000200",
    "X86_EFLAGS_DF, 0x00000400",
    "X86_EFLAGS_OF, 0x00000800",
    "X86_EFLAGS_IOPL, 0x00003000",
    "X86_EFLAGS_NT, 0x00004000",
    "X86_EFLAGS_RF, 0x00010000",
    "X86_EFLAGS_VM, 0x00020000",
    "X86_EFLAGS_AC, 0x00040000",
    "X86_EFLAGS_VIF, 0x00080000",
    "X86_EFLAGS_VIP, 0x00100000",
    "X86_EFLAGS_ID, 0x00200000",
    // Paging-structure entries
    "PDE64_PRESENT, 0x0000000000000001",
    "PDE64_RW, 0x0000000000000002",
    "PDE64_USER, 0x0000000000000004",
    "PDE64_PWT, 0x0000000000000008",
    "PDE64_PCD, 0x0000000000000010",
    "PDE64_ACCESSED, 0x0000000000000020",
    "PDE64_DIRTY, 0x0000000000000040",
    "PDE64_PS, 0x0000000000000080",
    "PDE64_G, 0x0000000000000100",
    "PDE64_NX, 0x8000000000000000",
  })
  void architecturalValue(String name, String sdmHex) throws ReflectiveOperationException {
    long expected = Long.parseUnsignedLong(sdmHex.substring(2), 16);
    assertEquals(expected, longConstant(name), name);
  }

  @Test
  void literalsFromTheSdm() {
    assertEquals(0x8000_0000L, KvmConstants.X86_CR0_PG); // not sign-extended
    assertEquals(0x20L, KvmConstants.X86_CR4_PAE);
    assertEquals(0x500L, KvmConstants.EFER_LME | KvmConstants.EFER_LMA);
    assertEquals(0x202L, KvmConstants.X86_EFLAGS_IF | KvmConstants.X86_EFLAGS_FIXED);
    assertEquals(Long.MIN_VALUE, KvmConstants.PDE64_NX);
    assertEquals(KvmRegs.RFLAGS_RESERVED, KvmConstants.X86_EFLAGS_FIXED);
    assertEquals(0x1000L, KvmConstants.PAGE_SIZE);
  }

  @Test
  void kvmHelloWorldCompositeValues() {
    // kvm-hello-world's CR0 for paged and long mode: the well-known 0x80050033.
    long cr0 =
        KvmConstants.X86_CR0_PE
            | KvmConstants.X86_CR0_MP
            | KvmConstants.X86_CR0_ET
            | KvmConstants.X86_CR0_NE
            | KvmConstants.X86_CR0_WP
            | KvmConstants.X86_CR0_AM
            | KvmConstants.X86_CR0_PG;
    assertEquals(0x8005_0033L, cr0);
    // A present, writable, user 2 MiB (or 4 MiB) page: 0x87.
    assertEquals(
        0x87L,
        KvmConstants.PDE64_PRESENT
            | KvmConstants.PDE64_RW
            | KvmConstants.PDE64_USER
            | KvmConstants.PDE64_PS);
  }

  /**
   * Within one register every constant is one bit (IOPL is a two-bit field), and no two overlap.
   */
  @ParameterizedTest
  @ValueSource(strings = {"X86_CR0_", "X86_CR4_", "EFER_", "X86_EFLAGS_", "PDE64_"})
  void bitsOfOneRegisterAreDistinct(String prefix) throws ReflectiveOperationException {
    List<Field> fields = new ArrayList<>();
    for (Field f : KvmConstants.class.getFields()) {
      if (f.getName().startsWith(prefix) && !f.getName().equals("EFER_NXE")) {
        fields.add(f);
      }
    }
    assertTrue(fields.size() >= 4, prefix + ": only " + fields.size() + " constants");
    long seen = 0;
    for (Field f : fields) {
      assertTrue(Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers()));
      assertEquals(long.class, f.getType(), f.getName() + " must be a long");
      long v = f.getLong(null);
      if (f.getName().equals("X86_EFLAGS_IOPL")) {
        assertEquals(2, Long.bitCount(v), f.getName());
      } else {
        assertEquals(1, Long.bitCount(v), f.getName() + " is not a single bit");
      }
      assertEquals(0, seen & v, f.getName() + " overlaps another " + prefix + " constant");
      seen |= v;
    }
  }

  private static long longConstant(String name) throws ReflectiveOperationException {
    return KvmConstants.class.getField(name).getLong(null);
  }
}
