package dev.toykvm.selftests;

import static dev.toykvm.selftests.SmpTest.loadIcrWriter;
import static dev.toykvm.selftests.SmpTest.run;
import static dev.toykvm.selftests.SmpTest.sendIpi;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmMsi;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * IPIs through the local APIC's ICR (Intel SDM vol. 3A 11.6): each destination mode and shorthand
 * reaches exactly the APICs it names (seen in their IRR), and NMIs are delivered through vector 2,
 * whatever IF, and blocked until the next IRET.
 */
@Timeout(60)
class IpiTest {
  private static final int VECTOR = 0x40;

  /** The vCPUs whose IRR holds {@link #VECTOR}. */
  private static List<Integer> receivers(SmpVm s) {
    return receivers(s, VECTOR);
  }

  /** The vCPUs whose IRR has {@code vector}. */
  private static List<Integer> receivers(SmpVm s, int vector) {
    List<Integer> got = new ArrayList<>();
    int at = 0x200 + (vector / 32) * 0x10 + (vector % 32) / 8;
    for (VcpuFd v : s.vcpus) {
      if ((v.getLapic()[at] & (1 << (vector % 8))) != 0) {
        got.add(v.id());
      }
    }
    return got;
  }

  /**
   * Three vCPUs with their APICs software-enabled and logical IDs {@code ldr0..2} in model {@code
   * dfr} (0xf flat, 0x0 cluster); vCPU 0 (IF=0, so it never takes the interrupt) writes the ICR.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "physical ID 1,              0x01000000, 0x00004040, 0xf, 0x01, 0x02, 0x04, '1'",
    "physical ID 2,              0x02000000, 0x00004040, 0xf, 0x01, 0x02, 0x04, '2'",
    "physical broadcast,         0xff000000, 0x00004040, 0xf, 0x01, 0x02, 0x04, '0,1,2'",
    "physical ID 7 (nobody),     0x07000000, 0x00004040, 0xf, 0x01, 0x02, 0x04, ''",
    "logical flat 0x06,          0x06000000, 0x00004840, 0xf, 0x01, 0x02, 0x04, '1,2'",
    "logical flat 0x01,          0x01000000, 0x00004840, 0xf, 0x01, 0x02, 0x04, '0'",
    "logical cluster 1 mask 3,   0x13000000, 0x00004840, 0x0, 0x11, 0x12, 0x21, '0,1'",
    "logical cluster 2 mask 1,   0x21000000, 0x00004840, 0x0, 0x11, 0x12, 0x21, '2'",
    "logical cluster 2 mask 2,   0x22000000, 0x00004840, 0x0, 0x11, 0x12, 0x21, ''",
    "shorthand self,             0x02000000, 0x00044040, 0xf, 0x01, 0x02, 0x04, '0'",
    "shorthand all incl. self,   0x00000000, 0x00084040, 0xf, 0x01, 0x02, 0x04, '0,1,2'",
    "shorthand all excl. self,   0x00000000, 0x000c4040, 0xf, 0x01, 0x02, 0x04, '1,2'",
    "lowest priority flat 0x06,  0x06000000, 0x00004940, 0xf, 0x01, 0x02, 0x04, '1'",
    "lowest priority 0x06 v0x41, 0x06000000, 0x00004941, 0xf, 0x01, 0x02, 0x04, '2'",
    "lowest priority 0x07 v0x43, 0x07000000, 0x00004943, 0xf, 0x01, 0x02, 0x04, '1'",
    "lowest priority 0x07 v0x44, 0x07000000, 0x00004944, 0xf, 0x01, 0x02, 0x04, '2'",
    "lowest priority 0x07 v0x45, 0x07000000, 0x00004945, 0xf, 0x01, 0x02, 0x04, '0'",
  })
  void fixedIpiReachesItsDestinations(
      String name, long high, long low, int dfr, int ldr0, int ldr1, int ldr2, String expected) {
    try (SmpVm s = new SmpVm(3, true)) {
      int[] ldr = {ldr0, ldr1, ldr2};
      for (VcpuFd v : s.vcpus) {
        byte[] lapic = v.getLapic();
        lapic[0xf0] = (byte) 0xff; // SPIV: software-enabled
        lapic[0xf1] = 0x01;
        lapic[0xd3] = (byte) ldr[v.id()]; // LDR bits 31:24
        lapic[0xe3] = (byte) (dfr << 4 | 0xf); // DFR bits 31:28: the model
        v.setLapic(lapic);
      }
      loadIcrWriter(s);
      s.protectedMode(0, 0x2000, 0x7000, new KvmDtable(0, 0), 2);
      long icr = sendIpi(s, (int) high, (int) low);
      assertEquals(0, icr & (1 << 12), "delivery status idle");
      List<Integer> want = new ArrayList<>();
      for (String id : expected.split(",")) {
        if (!id.isBlank()) {
          want.add(Integer.parseInt(id.trim()));
        }
      }
      assertEquals(want, receivers(s, (int) (low & 0xff)), name);
    }
  }

  /**
   * A lowest-priority MSI to three APICs goes to one, chosen by vector hashing as KVM does: vector
   * mod the number of enabled APICs named; a software-disabled APIC is not counted.
   */
  @ParameterizedTest(name = "vector {0} with APIC 1 enabled: {1} -> vCPU {2}")
  @CsvSource({
    "0x43, true, 1",
    "0x44, true, 2",
    "0x45, true, 0",
    "0x43, false, 2",
    "0x44, false, 0"
  })
  void aLowestPriorityMsiGoesToOneApicByVectorHashing(int vector, boolean oneEnabled, int want) {
    try (SmpVm s = new SmpVm(3, true)) {
      for (VcpuFd v : s.vcpus) {
        byte[] lapic = v.getLapic();
        lapic[0xf0] = (byte) 0xff;
        lapic[0xf1] = (byte) (v.id() == 1 && !oneEnabled ? 0x00 : 0x01); // SPIV bit 8
        lapic[0xd3] = (byte) (1 << v.id()); // flat logical IDs 1, 2, 4
        lapic[0xe3] = (byte) 0xff;
        v.setLapic(lapic);
      }
      // Address: logical, destination 0x07; data: lowest priority, the vector.
      KvmMsi msi =
          KvmMsi.ZERO.withAddressLo(0xfee00000 | 0x07 << 12 | 1 << 2).withData(1 << 8 | vector);
      assertEquals(1, s.vm.signalMsi(msi));
      assertEquals(List.of(want), receivers(s, vector));
    }
  }

  @Test
  void aFixedIpiRunsTheTargetsHandler() {
    try (SmpVm s = new SmpVm(2, true)) {
      loadIcrWriter(s);
      long idt = 0x3000;
      s.protectedMode(0, 0x2000, 0x7000, new KvmDtable(idt, 256 * 8 - 1), 2);
      // vCPU 1: enable its APIC, then sti; hlt; the handler reports its APIC ID.
      s.load(
          0x5000, 0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00, // mov [SPIV], 0x1ff
          0xe6, 0x82, //                                                        out 0x82, al
          0xfb, //                                                              sti
          0xf4, //                                                              hlt
          0xeb, 0xfd); //                                                       jmp to the hlt
      s.load(
          0x5100, 0xa1, 0x20, 0x00, 0xe0, 0xfe, // mov eax, [0xfee00020]   APIC ID
          0xe7, 0x80, //                          out 0x80, eax
          0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, // mov [EOI], 0
          0xcf); //                               iretd
      s.gate32(idt, VECTOR, 0x5100);
      VcpuFd ap = s.vcpu(1);
      ap.setMpState(dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_RUNNABLE);
      s.protectedMode(1, 0x5000, 0x6000, new KvmDtable(idt, 256 * 8 - 1), 2);
      assertEquals(0x82, ((VcpuExit.IoOut) run(ap)).port());
      sendIpi(s, 0x0100_0000, 0x4000 | VECTOR);
      assertEquals(new VcpuExit.IoOut(0x80, 4, 0x0100_0000), run(ap)); // woke from hlt
    }
  }

  @Test
  void nmiIgnoresIfAndIsBlockedUntilIret() {
    try (SmpVm s = new SmpVm(1, true)) {
      long idt = 0x3000;
      s.load(
          0x2000, 0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x44, 0x04, 0x00, // ICR: NMI to self
          0xeb, 0x00, //                                                         jmp $+2 (block end)
          0x90, //                                                               nop  <- NMI here
          0xe6, 0x84); //                                                        out 0x84, al
      s.load(
          0x2100, 0xff, 0x05, 0x00, 0x07, 0x00, 0x00, //                         inc dword [0x700]
          0xa1, 0x00, 0x07, 0x00, 0x00, //                                       mov eax, [0x700]
          0xe7, 0x82, //                                                         out 0x82, eax
          0x83, 0xf8, 0x01, //                                                   cmp eax, 1
          0x75, 0x0a, //                                                         jne done
          0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x44, 0x04, 0x00, // ICR: NMI to self (blocked)
          0xe7, 0x83, //                                                   done: out 0x83, eax
          0xcf); //                                                              iretd
      s.gate32(idt, 2, 0x2100);
      s.protectedMode(0, 0x2000, 0x7000, new KvmDtable(idt, 256 * 8 - 1), 2); // IF=0
      VcpuFd v = s.vcpu(0);
      assertEquals(new VcpuExit.IoOut(0x82, 4, 1), run(v)); // the first NMI, although IF=0
      assertEquals(0x200c, s.read32(v.getRegs().rsp())); // saved EIP: the nop
      assertEquals(new VcpuExit.IoOut(0x83, 4, 1), run(v)); // the second one waits for iret
      assertEquals(new VcpuExit.IoOut(0x82, 4, 2), run(v)); // delivered right after the iret
      assertEquals(new VcpuExit.IoOut(0x83, 4, 2), run(v));
      assertEquals(0x84, ((VcpuExit.IoOut) run(v)).port()); // one latched NMI, not more
    }
  }

  @Test
  void nmiWakesAHaltedVcpuWithInterruptsOff() throws Exception {
    try (SmpVm s = new SmpVm(2, true)) {
      loadIcrWriter(s);
      long idt = 0x3000;
      s.protectedMode(0, 0x2000, 0x7000, new KvmDtable(idt, 256 * 8 - 1), 2);
      s.load(0x5000, 0xe6, 0x82, 0xf4, 0xe6, 0x85); // out 0x82; hlt (IF=0); out 0x85
      s.load(0x5100, 0xe6, 0x86, 0xcf); //            NMI handler: out 0x86; iretd
      s.gate32(idt, 2, 0x5100);
      VcpuFd ap = s.vcpu(1);
      ap.setMpState(dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_RUNNABLE);
      s.protectedMode(1, 0x5000, 0x6000, new KvmDtable(idt, 256 * 8 - 1), 2);
      assertEquals(0x82, ((VcpuExit.IoOut) run(ap)).port());
      // Kick from another thread until the vCPU is halted (a kick leaves it halted).
      while (ap.getMpState() != dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_HALTED) {
        java.util.concurrent.CompletableFuture<Void> kicker =
            java.util.concurrent.CompletableFuture.runAsync(() -> {}).thenRun(ap::kick);
        assertEquals(new VcpuExit.Intr(), run(ap));
        kicker.join();
      }
      sendIpi(s, 0x0100_0000, 0x4400); // NMI to APIC ID 1
      assertEquals(0x86, ((VcpuExit.IoOut) run(ap)).port());
      assertEquals(0x85, ((VcpuExit.IoOut) run(ap)).port());
    }
  }
}
