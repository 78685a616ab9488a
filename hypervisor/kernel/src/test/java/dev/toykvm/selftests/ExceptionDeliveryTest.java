package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.VcpuExit;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Exceptions and software interrupts reach the guest's own handlers through its IVT or IDT, with
 * the frame a real CPU pushes: a fault's saved RIP is the faulting instruction, a software
 * interrupt's is the next one.
 */
@Timeout(30)
class ExceptionDeliveryTest {
  private static final long IDT = 0x3000;

  private static long stack(TestVm t, KvmRegs r, int slot) {
    return t.ram.get(ValueLayout.JAVA_LONG, r.rsp() + slot * 8L);
  }

  @Test
  void realModeDivideErrorSavesTheFaultingIp() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0x30, 0xdb, // xor bl, bl
          0xf6, 0xf3, // div bl        <- #DE, saved IP 0x1002
          0xf4); // hlt
      t.load(0x1100, 0xf4); // #DE handler: hlt
      t.load(0, 0x00, 0x11, 0x00, 0x00); // IVT[0] = 0000:1100
      t.realMode(0x1000);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x1101, r.rip());
      assertEquals(0x8000 - 6, r.rsp() & 0xffff);
      assertEquals(0x1002, t.ram.get(ValueLayout.JAVA_SHORT, 0x8000 - 6));
      assertEquals(0, t.ram.get(ValueLayout.JAVA_SHORT, 0x8000 - 4)); // CS
    }
  }

  @Test
  void longModeSoftwareInterruptReturnsThroughIretq() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0xcd, 0x80, // int 0x80
          0xe6, 0x81, // out 0x81, al
          0xf4); // hlt
      t.load(
          0x2100, 0xb0, 0x42, // mov al, 0x42
          0x48, 0xcf); // iretq
      t.gate64(IDT, 0x80, 0x2100);
      t.longMode(0x2000, new KvmDtable(IDT, 256 * 16 - 1));
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x42), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x8000, t.vcpu.getRegs().rsp());
    }
  }

  @Test
  void longModeInvalidOpcodeFrame() {
    try (TestVm t = new TestVm()) {
      t.load(0x2000, 0x0f, 0x0b); // ud2
      t.load(0x2100, 0xf4); // #UD handler: hlt
      t.gate64(IDT, 6, 0x2100);
      t.longMode(0x2000, new KvmDtable(IDT, 256 * 16 - 1));
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x8000 - 40, r.rsp());
      assertEquals(0x2000, stack(t, r, 0)); // RIP of the ud2
      assertEquals(0x18, stack(t, r, 1)); // CS
      assertEquals(0x8000, stack(t, r, 3)); // RSP
    }
  }

  @Test
  void longModeGeneralProtectionPushesAnErrorCode() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0x66, 0xb8, 0x28, 0x00, // mov ax, 0x28     (beyond the GDT limit)
          0x8e, 0xd8); // mov ds, ax  <- #GP at 0x2004
      t.load(0x2100, 0xf4); // #GP handler: hlt
      t.gate64(IDT, 13, 0x2100);
      t.longMode(0x2000, new KvmDtable(IDT, 256 * 16 - 1));
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x8000 - 48, r.rsp());
      assertEquals(0x28, stack(t, r, 0)); // the error code: the selector
      assertEquals(0x2004, stack(t, r, 1)); // RIP above the error code
      assertEquals(0x18, stack(t, r, 2));
      assertEquals(RF, stack(t, r, 3) & RF); // a fault pushes RF set
      assertEquals(0, r.rflags() & RF); // and the handler runs with RF clear
    }
  }

  private static final long RF = 1L << 16;

  /** A not-present writable data segment at GDT selector 0x20 (the GDTR grown to hold it). */
  private static void notPresentSegmentAt0x20(TestVm t, KvmDtable idt) {
    t.ram.set(ValueLayout.JAVA_LONG, TestVm.GDT + 0x20, 0x00cf_1300_0000_ffffL);
    t.vcpu.setSregs(t.vcpu.getSregs().withTables(new KvmDtable(TestVm.GDT, 5 * 8 - 1), idt));
  }

  @Test
  void longModePageFaultPushesItsErrorCodeAndSetsCr2() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0x48, 0xb8, 0, 0, 0x30, 0, 0, 0, 0, 0, // mov rax, 0x300000 (its PD entry cleared)
          0xc6, 0x00, 0x01); //                            mov byte [rax], 1  <- #PF at 0x200a
      t.load(0x2100, 0xf4); // #PF handler: hlt
      t.gate64(IDT, 14, 0x2100);
      t.longMode(0x2000, new KvmDtable(IDT, 256 * 16 - 1));
      // Linear 2-4 MiB not present. (Not an address outside RAM: Unicorn's memory hooks, with which
      // the kernel side finds MMIO, see linear addresses, so that would be an MMIO exit.)
      t.ram.set(ValueLayout.JAVA_LONG, TestVm.PAGE_TABLES + 0x2000 + 8, 0);
      VcpuExit e = t.vcpu.run();
      assertInstanceOf(VcpuExit.Hlt.class, e, e.toString());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x2, stack(t, r, 0)); // W=1, P=0, U=0: a supervisor write to a missing page
      assertEquals(0x200a, stack(t, r, 1));
      assertEquals(RF, stack(t, r, 3) & RF);
      assertEquals(0x300000L, t.vcpu.getSregs().cr2());
    }
  }

  @Test
  void longModeSegmentNotPresentPushesTheSelector() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0x66, 0xb8, 0x20, 0x00, // mov ax, 0x20   (present bit clear)
          0x8e, 0xd8); //                    mov ds, ax    <- #NP(0x20) at 0x2004
      t.load(0x2100, 0xf4); // #NP handler: hlt
      t.gate64(IDT, 11, 0x2100);
      KvmDtable idt = new KvmDtable(IDT, 256 * 16 - 1);
      t.longMode(0x2000, idt);
      notPresentSegmentAt0x20(t, idt);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x20, stack(t, r, 0));
      assertEquals(0x2004, stack(t, r, 1));
      assertEquals(RF, stack(t, r, 3) & RF);
    }
  }

  @Test
  void longModeStackSegmentFaultPushesTheSelector() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0x66, 0xb8, 0x20, 0x00, // mov ax, 0x20   (present bit clear)
          0x8e, 0xd0); //                    mov ss, ax    <- #SS(0x20) at 0x2004
      t.load(0x2100, 0xf4); // #SS handler: hlt
      t.gate64(IDT, 12, 0x2100);
      KvmDtable idt = new KvmDtable(IDT, 256 * 16 - 1);
      t.longMode(0x2000, idt);
      notPresentSegmentAt0x20(t, idt);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x20, stack(t, r, 0));
      assertEquals(0x2004, stack(t, r, 1));
    }
  }

  @Test
  void protectedModeGeneralProtectionFrame() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0x66, 0xb8, 0x28, 0x00, // mov ax, 0x28     (beyond the GDT limit)
          0x8e, 0xd8); //                    mov ds, ax  <- #GP(0x28) at 0x2004
      t.load(0x2100, 0xf4); // #GP handler: hlt
      t.gate32(IDT, 13, 0x2100);
      t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      long esp = t.vcpu.getRegs().rsp();
      assertEquals(0x8000 - 16, esp);
      assertEquals(0x28, t.ram.get(ValueLayout.JAVA_INT, esp)); // error code
      assertEquals(0x2004, t.ram.get(ValueLayout.JAVA_INT, esp + 4)); // EIP
      assertEquals(0x08, t.ram.get(ValueLayout.JAVA_INT, esp + 8)); // CS
      assertEquals(RF, t.ram.get(ValueLayout.JAVA_INT, esp + 12) & RF); // EFLAGS with RF
    }
  }

  @Test
  void softwareInterruptPushesNoRf() {
    try (TestVm t = new TestVm()) {
      t.load(0x2000, 0xcd, 0x80); // int 0x80
      t.load(0x2100, 0xf4); // handler: hlt
      t.gate64(IDT, 0x80, 0x2100);
      t.longMode(0x2000, new KvmDtable(IDT, 256 * 16 - 1));
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x2002, stack(t, r, 0)); // no error code slot
      assertEquals(0, stack(t, r, 2) & RF);
    }
  }

  @Test
  void protectedModeHandlerRuns() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0xcd, 0x21, // int 0x21
          0xe6, 0x81, // out 0x81, al
          0xf4); // hlt
      t.load(
          0x2100, 0xb0, 0x24, // mov al, 0x24
          0xcf); // iretd
      t.gate32(IDT, 0x21, 0x2100);
      t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x24), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
    }
  }

  @Test
  void missingDoubleFaultHandlerIsATripleFault() {
    try (TestVm t = new TestVm()) {
      t.load(0x2000, 0x0f, 0x0b); // ud2, and the IDT has no gate for #UD nor #DF
      t.longMode(0x2000, new KvmDtable(IDT, 256 * 16 - 1));
      assertInstanceOf(VcpuExit.Shutdown.class, t.vcpu.run());
    }
  }
}
