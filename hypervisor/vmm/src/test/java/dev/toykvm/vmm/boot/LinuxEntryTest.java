package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinuxEntryTest {
  static final KvmSregs RESET =
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
          0x10,
          0,
          0,
          0,
          0,
          0,
          0xfee00900L);

  private static BootPlan plan(BootPlan.Protocol p) {
    return new BootPlan(
        List.of(), 0x100000, 0x7000, 0x6000, p, p == BootPlan.Protocol.LINUX_64 ? 0x9000 : 0);
  }

  @Test
  void thirtyTwoBitEntryHasTheBootSelectorsAndNoPaging() {
    KvmSregs s = LinuxEntry.sregs(RESET, plan(BootPlan.Protocol.LINUX_32));
    assertEquals(KvmSegment.flat32(0x10, true), s.cs());
    for (KvmSegment seg : List.of(s.ds(), s.es(), s.ss(), s.fs(), s.gs())) {
      assertEquals(KvmSegment.flat32(0x18, false), seg);
    }
    assertEquals(new KvmDtable(0x6000, 31), s.gdt());
    assertEquals(0x11, s.cr0(), "PE | ET, no PG");
    assertEquals(0, s.efer());
    assertEquals(0xfee00900L, s.apicBase(), "kept");
    assertEquals(s, EntryState.sregs(RESET, plan(BootPlan.Protocol.LINUX_32)));
  }

  @Test
  void sixtyFourBitEntryIsLongModeWithTheIdentityMap() {
    KvmSregs s = LinuxEntry.sregs(RESET, plan(BootPlan.Protocol.LINUX_64));
    assertEquals(KvmSegment.long64(0x10, true), s.cs());
    assertEquals(KvmSegment.long64(0x18, false), s.ss());
    assertEquals(0x8000_0011L, s.cr0(), "PG | ET | PE");
    assertEquals(0x20, s.cr4(), "PAE");
    assertEquals(0x9000, s.cr3());
    assertEquals(0x500, s.efer(), "LME | LMA");
  }

  @Test
  void registersHoldBootParamsInEsiAndZeroElsewhere() {
    KvmRegs r = LinuxEntry.regs(plan(BootPlan.Protocol.LINUX_32));
    assertEquals(KvmRegs.reset().withRsi(0x7000).withRip(0x100000), r);
    assertEquals(r, EntryState.regs(plan(BootPlan.Protocol.LINUX_32)));
  }

  @Test
  void theGdtHasFlatCodeAndDataAtTheBootSelectors() {
    ByteBuffer g = ByteBuffer.wrap(LinuxEntry.gdt(false)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0, g.getLong(0) | g.getLong(8));
    assertEquals(0x00cf_9b00_0000_ffffL, g.getLong(0x10));
    assertEquals(0x00cf_9300_0000_ffffL, g.getLong(0x18));
    assertEquals(
        0x00af_9b00_0000_ffffL,
        ByteBuffer.wrap(LinuxEntry.gdt(true)).order(ByteOrder.LITTLE_ENDIAN).getLong(0x10),
        "L set, D clear");
  }

  @Test
  void thePageTablesMapTheFirstFourGibIdentically() {
    ByteBuffer t = ByteBuffer.wrap(LinuxEntry.pageTables(0x9000)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0xa003, t.getLong(0), "PML4[0] -> PDPT");
    for (int i = 0; i < 4; i++) {
      assertEquals(0xb003 + 0x1000L * i, t.getLong(0x1000 + 8 * i), "PDPT[" + i + "]");
    }
    assertEquals(0x83, t.getLong(0x2000), "2 MiB page at 0");
    assertEquals(0xffe0_0083L, t.getLong(0x2000 + 0x3000 + 8 * 511), "the last 2 MiB below 4 GiB");
  }
}
