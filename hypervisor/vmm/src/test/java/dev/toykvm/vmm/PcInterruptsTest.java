package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The default machine's irqchip and PIT, and {@code --no-irqchip}, on a scripted kernel side. */
class PcInterruptsTest {
  private static GuestImage image() {
    return new GuestImage("test", "", new byte[MachineLayout.ROM_SIZE]);
  }

  private static MachineConfig config(boolean irqchip, List<DeviceSpec> devices) {
    return new MachineConfig(
        MachineLayout.DEFAULT_MEMORY,
        false,
        Optional.empty(),
        devices,
        DeviceSpec.Route.IN_PROCESS,
        MachineConfig.DEFAULT_DEVICE_TIMEOUT,
        irqchip);
  }

  private static int reg(byte[] lapic, int offset) {
    return ByteBuffer.wrap(lapic).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
  }

  @Test
  void theDefaultMachineHasTheIrqchipAndThePitAndWiresLint0() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    // As KVM resets them: every LVT masked (LINT0 is reset to ExtINT only by a quirk).
    ByteBuffer.wrap(kvm.lapic).order(ByteOrder.LITTLE_ENDIAN).putInt(0x350, 1 << 16);
    ByteBuffer.wrap(kvm.lapic).order(ByteOrder.LITTLE_ENDIAN).putInt(0x360, 1 << 16);
    try (Machine m =
        Machine.create(kvm, config(true, List.of()), image(), new ByteArrayOutputStream(), null)) {
      assertTrue(kvm.irqchip);
      assertTrue(kvm.pit);
      assertEquals(0x700, reg(kvm.lapic, 0x350)); // LINT0: ExtINT, unmasked: the 8259's wire
      assertEquals(0x400 | 1 << 16, reg(kvm.lapic, 0x360)); // LINT1: NMI, mask kept
    }
  }

  @Test
  void noIrqchipCreatesNothing() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    try (Machine m =
        Machine.create(kvm, config(false, List.of()), image(), new ByteArrayOutputStream(), null)) {
      assertFalse(kvm.irqchip);
      assertFalse(kvm.pit);
    }
  }

  @Test
  void aDeviceOnThePicIsRefusedUnlessNoIrqchip() throws Exception {
    List<DeviceSpec> onPic = List.of(DeviceSpec.parse("testdev,pio=0x20,size=2,route=in-process"));
    DeviceException e =
        assertThrows(
            DeviceException.class,
            () ->
                Machine.create(
                        new ScriptedKvm(),
                        config(true, onPic),
                        image(),
                        new ByteArrayOutputStream(),
                        null)
                    .close());
    assertTrue(e.getMessage().contains("8259"), e.getMessage());
    Machine.create(
            new ScriptedKvm(), config(false, onPic), image(), new ByteArrayOutputStream(), null)
        .close();
  }
}
