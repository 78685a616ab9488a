package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.vmm.boot.BootPlan;
import dev.toykvm.vmm.boot.EntryState;
import dev.toykvm.vmm.boot.LinuxEntry;
import dev.toykvm.vmm.boot.LinuxLoader;
import dev.toykvm.vmm.boot.LoadSegment;
import dev.toykvm.vmm.boot.MultibootInfo;
import dev.toykvm.vmm.boot.PcMemoryMap;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The machine of a {@code --kernel} boot, driven by a script of exits (no CPU). */
class KernelMachineTest {
  static final long MEMORY = 16L << 20;

  private static KernelBoot boot(DebugExitPort.Mode mode, ByteArrayOutputStream debugcon) {
    BootPlan plan =
        new BootPlan(
            List.of(new LoadSegment(0x100000, new byte[] {(byte) 0xf4}, 0x2000)),
            0x100000,
            0x9000,
            0x8000);
    return new KernelBoot("k", plan, PcMemoryMap.of(MEMORY), mode, debugcon);
  }

  /** pc-testdev in the VMM, so that no device JVM starts. */
  private static MachineConfig config() {
    return new MachineConfig(
        MEMORY,
        false,
        Optional.empty(),
        List.of(DeviceSpec.parse("pc-testdev,pio=0xe0,route=in-process")),
        DeviceSpec.Route.IN_PROCESS);
  }

  private static Machine machine(ScriptedKvm kvm, DebugExitPort.Mode mode, ByteArrayOutputStream d)
      throws Exception {
    return Machine.boot(kvm, config(), boot(mode, d), new ByteArrayOutputStream(), null);
  }

  @Test
  void theVcpuStartsInTheMultibootState() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.IoOut(0xf4, 1, 0));
    try (Machine m = machine(kvm, DebugExitPort.Mode.QEMU, new ByteArrayOutputStream())) {
      assertEquals(MultibootInfo.BOOTLOADER_MAGIC & 0xffff_ffffL, kvm.regs.rax());
      assertEquals(0x9000, kvm.regs.rbx());
      assertEquals(0x100000, kvm.regs.rip());
      assertEquals(KvmSegment.flat32(EntryState.CODE_SELECTOR, true), kvm.sregs.cs());
      assertEquals(1, kvm.sregs.cr0() & 1);
      assertEquals((byte) 0xf4, m.ram().get(ValueLayout.JAVA_BYTE, 0x100000), "kernel placed");
      assertEquals(0, m.ram().get(ValueLayout.JAVA_BYTE, 0x100001), "bss zero");
      VmOutcome o = m.run();
      assertEquals(new VmOutcome.GuestExited(1), o, "QEMU's (0 << 1) | 1");
    }
  }

  @Test
  void aLinuxPlanStartsTheVcpuInItsProtocolsState() throws Exception {
    BootPlan plan =
        new BootPlan(
            List.of(new LoadSegment(0x100000, new byte[] {(byte) 0xf4}, 1)),
            0x100000,
            LinuxLoader.BOOT_PARAMS,
            LinuxLoader.GDT_BASE,
            BootPlan.Protocol.LINUX_32,
            0);
    ScriptedKvm kvm = new ScriptedKvm();
    KernelBoot boot =
        new KernelBoot(
            "k",
            plan,
            PcMemoryMap.of(MEMORY),
            DebugExitPort.Mode.QEMU,
            new ByteArrayOutputStream());
    try (Machine m = Machine.boot(kvm, config(), boot, new ByteArrayOutputStream(), null)) {
      assertEquals(LinuxLoader.BOOT_PARAMS, kvm.regs.rsi(), "ESI = boot_params");
      assertEquals(0, kvm.regs.rax() | kvm.regs.rbx() | kvm.regs.rbp() | kvm.regs.rdi());
      assertEquals(0x100000, kvm.regs.rip());
      assertEquals(KvmSegment.flat32(LinuxEntry.BOOT_CS, true), kvm.sregs.cs());
      assertEquals(KvmSegment.flat32(LinuxEntry.BOOT_DS, false), kvm.sregs.ds());
      assertEquals(LinuxLoader.GDT_BASE, kvm.sregs.gdt().base());
    }
  }

  @Test
  void noRamIsMappedInThePcHole() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    try (Machine m = machine(kvm, DebugExitPort.Mode.RAW, new ByteArrayOutputStream())) {
      assertEquals(2, kvm.regions.size());
      assertEquals(0, kvm.regions.get(0).guestPhysAddr());
      assertEquals(0xa0000, kvm.regions.get(0).memorySize());
      assertEquals(0x100000, kvm.regions.get(1).guestPhysAddr());
      assertEquals(MEMORY - 0x100000, kvm.regions.get(1).memorySize());
    }
  }

  @Test
  void fastResetOnPort92EndsTheVmWithTheResetStatus() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.IoOut(0x92, 1, 0x01));
    kvm.then(new VcpuExit.IoOut(0xf4, 1, 5));
    try (Machine m = machine(kvm, DebugExitPort.Mode.RAW, new ByteArrayOutputStream())) {
      VmOutcome o = m.run();
      assertInstanceOf(VmOutcome.GuestReset.class, o);
      assertEquals(ExitCodes.RESET, o.exitCode());
    }
  }

  @Test
  void theDevicesAnswerOnTheirPorts() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    List<Long> answers = new ArrayList<>();
    ByteArrayOutputStream debugcon = new ByteArrayOutputStream();
    // Each step after a read records what the read was answered with.
    List<VcpuExit> steps = new ArrayList<>();
    steps.add(new VcpuExit.IoOut(0x510, 2, 0x0000)); // fw_cfg: select the signature
    for (int i = 0; i < 4; i++) {
      steps.add(new VcpuExit.IoIn(0x511, 1, v -> {}));
    }
    steps.add(new VcpuExit.IoOut(0x70, 1, 0x15)); // CMOS: base memory, low byte
    steps.add(new VcpuExit.IoIn(0x71, 1, v -> {}));
    steps.add(new VcpuExit.IoOut(0x402, 1, 'D'));
    steps.add(new VcpuExit.IoIn(0x402, 1, v -> {}));
    steps.add(new VcpuExit.MmioWrite(0xff000010L, 4, 0x12345678));
    steps.add(new VcpuExit.MmioRead(0xff000010L, 4, v -> {}));
    steps.add(new VcpuExit.IoIn(0x64, 1, v -> {})); // i8042 status
    steps.add(new VcpuExit.IoOut(0xf4, 1, 0));
    for (int i = 0; i < steps.size(); i++) {
      VcpuExit exit = steps.get(i);
      boolean afterRead =
          i > 0
              && (steps.get(i - 1) instanceof VcpuExit.IoIn
                  || steps.get(i - 1) instanceof VcpuExit.MmioRead);
      kvm.then(
          answer -> {
            if (afterRead) {
              answers.add(answer);
            }
            return exit;
          });
    }
    try (Machine m = machine(kvm, DebugExitPort.Mode.RAW, debugcon)) {
      assertEquals(new VmOutcome.GuestExited(0), m.run());
    }
    assertEquals(List.of((long) 'Q', (long) 'E', (long) 'M', (long) 'U'), answers.subList(0, 4));
    assertEquals(640 & 0xff, answers.get(4), "640 KiB of base memory");
    assertEquals(0xe9, answers.get(5), "the debug console reads 0xe9");
    assertEquals("D", debugcon.toString());
    assertEquals(0x12345678, answers.get(6), "pc-testdev's memory window");
    assertTrue((answers.get(7) & 0x10) != 0, "i8042: not inhibited");
  }
}
