package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

public class EntryStateTest {
  public static final KvmSregs RESET =
      new KvmSregs(
          KvmSegment.realMode(0xf000, true),
          KvmSegment.realMode(0, false),
          KvmSegment.realMode(0, false),
          KvmSegment.realMode(0, false),
          KvmSegment.realMode(0, false),
          KvmSegment.realMode(0, false),
          KvmSegment.ZERO,
          KvmSegment.ZERO,
          new KvmDtable(0, 0xffff),
          new KvmDtable(0, 0xffff),
          0x60000010L,
          0,
          0,
          0,
          0,
          0,
          0xfee00900L);

  @Test
  void flatProtectedModeWithoutPaging() {
    KvmSregs s = EntryState.sregs(RESET, 0x8000);
    assertEquals(1, s.cr0() & 1, "PE");
    assertEquals(0, s.cr0() & 0x8000_0000L, "PG off");
    assertEquals(0, s.efer());
    for (KvmSegment seg : new KvmSegment[] {s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss()}) {
      assertEquals(0, seg.base());
      assertEquals(0xffff_ffffL, seg.limit());
      assertTrue(seg.db(), "32-bit");
      assertTrue(seg.present());
    }
    assertEquals(EntryState.CODE_SELECTOR, s.cs().selector());
    assertEquals(KvmSegment.TYPE_CODE_XR_ACCESSED, s.cs().type());
    assertEquals(EntryState.DATA_SELECTOR, s.ss().selector());
    assertEquals(new KvmDtable(0x8000, 23), s.gdt());
    assertEquals(0xfee00900L, s.apicBase(), "kept");
  }

  @Test
  void registersCarryTheMagicAndTheInformation() {
    KvmRegs r = EntryState.regs(0x10000c, 0x9000);
    assertEquals(0x2BADB002L, r.rax());
    assertEquals(0x9000, r.rbx());
    assertEquals(0x10000c, r.rip());
    assertEquals(0, r.rflags() & (1 << 9), "IF clear");
    assertEquals(2, r.rflags());
  }

  @Test
  void theGdtDescriptorsMatchTheHiddenState() {
    ByteBuffer b = ByteBuffer.wrap(EntryState.gdt()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0, b.getLong(0));
    long code = b.getLong(EntryState.CODE_SELECTOR);
    long data = b.getLong(EntryState.DATA_SELECTOR);
    assertEquals(0xffff, code & 0xffff, "limit 15:0");
    assertEquals(0xf, (code >> 48) & 0xf, "limit 19:16");
    assertEquals(0x9b, (code >> 40) & 0xff, "present, code, XR, accessed");
    assertEquals(0x93, (data >> 40) & 0xff, "present, data, RW, accessed");
    assertEquals(0xc, (code >> 52) & 0xf, "G and D");
    assertFalse(((data >> 52) & 0x2) != 0, "not 64-bit");
  }
}
