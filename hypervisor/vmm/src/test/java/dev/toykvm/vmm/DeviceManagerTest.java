package dev.toykvm.vmm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.posix.ProcessGroup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The devices of a machine against a scripted kernel side, with shell scripts as device processes:
 * routes, user_data, failures and timeouts of route=vmm, overlaps, teardown of process groups.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeviceManagerTest {
  @TempDir Path dir;

  private static GuestImage image() {
    byte[] rom = new byte[MachineLayout.ROM_SIZE];
    return new GuestImage("test", "", rom);
  }

  private Path script(String name, String body) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    return p;
  }

  /** A device that logs each command in hex to {@code log} and answers it with 32 zero bytes. */
  private Path recorder(Path log) throws IOException {
    return script(
        "recorder",
        "while :; do\n"
            + "  cmd=$(head -c 32 | od -An -tx1 -v | tr -d ' \\n')\n"
            + "  [ -z \"$cmd\" ] && exit 0\n"
            + "  echo \"$cmd\" >> "
            + log
            + "\n"
            + "  head -c 32 /dev/zero\n"
            + "done");
  }

  private static MachineConfig config(Duration timeout, Duration deviceTimeout, String... specs) {
    return new MachineConfig(
        MachineLayout.DEFAULT_MEMORY,
        false,
        Optional.ofNullable(timeout),
        java.util.Arrays.stream(specs).map(DeviceSpec::parse).toList(),
        DeviceSpec.Route.IN_PROCESS,
        deviceTimeout);
  }

  /** user_data is the device's index in the machine (COM1 is 0), whatever its route. */
  @Test
  void bothProcessRoutesSendTheSameUserData() throws Exception {
    Path log = dir.resolve("commands");
    Path dev = recorder(log);
    ScriptedKvm viaVmm = new ScriptedKvm();
    viaVmm.then(new VcpuExit.IoIn(0x1234, 1, v -> {})).then(new VcpuExit.IoOut(0xf4, 1, 0));
    MachineConfig config =
        config(null, Duration.ofSeconds(30), "exec=" + dev + ",pio=0x1234,size=8,route=vmm");
    try (Machine m = Machine.create(viaVmm, config, image(), new ByteArrayOutputStream(), null)) {
      assertEquals(new VmOutcome.GuestExited(0), m.run());
    }
    // The read of port 0x1234: op 0, size exponent 0 | resp (bit 4), user_data 1, offset 0.
    assertEquals(
        List.of("00100000000000000100000000000000" + "0000000000000000" + "0000000000000000"),
        Files.readAllLines(log));
    // The same device over ioregionfd: the kernel side gets the same user_data to send.
    ScriptedKvm viaKernel = new ScriptedKvm();
    viaKernel.then(new VcpuExit.IoOut(0xf4, 1, 0));
    config = config(null, Duration.ofSeconds(30), "exec=" + dev + ",pio=0x1234,size=8");
    try (Machine m =
        Machine.create(viaKernel, config, image(), new ByteArrayOutputStream(), null)) {
      assertEquals(new VmOutcome.GuestExited(0), m.run());
    }
    assertEquals(1, viaKernel.ioregions.getFirst().userData());
  }

  @Test
  void aSilentDeviceOnRouteVmmFailsAfterTheDeviceTimeout() throws Exception {
    Path mute = script("mute", "echo 'mute: not answering' >&2; exec sleep 1000");
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.IoOut(0x1234, 1, 0x44));
    MachineConfig config =
        config(null, Duration.ofMillis(200), "exec=" + mute + ",pio=0x1234,size=8,route=vmm");
    try (Machine m = Machine.create(kvm, config, image(), new ByteArrayOutputStream(), null)) {
      VmOutcome o = m.run();
      VmOutcome.DeviceFailed f = assertInstanceOf(VmOutcome.DeviceFailed.class, o);
      assertEquals(ExitCodes.DEVICE, f.exitCode());
      assertEquals(
          "a device process failed (route vmm, EAGAIN) on a write to port 0x1234: waited 200 ms"
              + " for the response (the device stalls); device mute@pio:0x1234 (pid "
              + m.devicePids().getFirst()
              + ") said: mute: not answering",
          f.message());
    }
  }

  @Test
  void aDeviceThatDiesOnRouteVmmIsEio() throws Exception {
    // It reads the command, then dies without answering: the VMM's wait for the answer sees EOF.
    // (The device watch may still see the death first: then the outcome names the exit instead.)
    Path quitter = script("quitter", "head -c 32 >/dev/null\nexit 3");
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.MmioRead(0xfeb0_0010L, 4, v -> {}));
    MachineConfig config =
        config(
            null,
            Duration.ofSeconds(30),
            "exec=" + quitter + ",mmio=0xfeb00000,size=0x1000,route=vmm");
    try (Machine m = Machine.create(kvm, config, image(), new ByteArrayOutputStream(), null)) {
      VmOutcome o = m.run();
      assertEquals(ExitCodes.DEVICE, o.exitCode());
      if (o.message().startsWith("a device process failed: it exited with status 3")) {
        return; // the device watch was first
      }
      assertTrue(
          o.message()
              .startsWith(
                  "a device process failed (route vmm, EIO) on a read of address 0xfeb00010: "),
          o.message());
      assertEquals(0xffff_ffffL, kvm.lastAnswer, "the failed read reads all-ones");
    }
  }

  /**
   * A device process that ends while the guest never touches it still ends the VM (the device
   * watch): before, the VM ran on without it until --timeout.
   */
  @Test
  void aDeviceThatEndsWhileTheGuestIgnoresItEndsTheVm() throws Exception {
    Path doomed = script("doomed", "echo 'doomed: bye' >&2; exit 3");
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.thenForever(answer -> new VcpuExit.Intr()); // runs on, never near port 0x1234
    MachineConfig config =
        config(
            Duration.ofSeconds(60),
            Duration.ofSeconds(30),
            "exec=" + doomed + ",pio=0x1234,size=8,route=vmm");
    try (Machine m = Machine.create(kvm, config, image(), new ByteArrayOutputStream(), null)) {
      VmOutcome o = m.run();
      assertEquals(ExitCodes.DEVICE, o.exitCode(), o.message());
      assertTrue(
          o.message()
              .startsWith(
                  "a device process failed: it exited with status 3 while the VM ran; device"
                      + " doomed@pio:0x1234 (pid "),
          o.message());
      assertTrue(o.message().endsWith("said: doomed: bye"), o.message());
    }
  }

  /** --timeout ends a wait of the VMM for a device (the device timeout would be an hour). */
  @Test
  void theTimeoutInterruptsAWaitForADeviceOnRouteVmm() throws Exception {
    Path mute = script("mute", "exec sleep 1000");
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.IoIn(0x1234, 1, v -> {}));
    MachineConfig config =
        config(
            Duration.ofMillis(300),
            Duration.ofHours(1),
            "exec=" + mute + ",pio=0x1234,size=8,route=vmm");
    try (Machine m = Machine.create(kvm, config, image(), new ByteArrayOutputStream(), null)) {
      assertEquals(new VmOutcome.TimedOut(Duration.ofMillis(300)), m.run());
    }
  }

  @Test
  void devicesMayNotOverlapTheMachine() {
    for (String spec :
        new String[] {
          "testdev,pio=0xf0,size=8,route=in-process", "testdev,mmio=0x1000,route=in-process"
        }) {
      MachineConfig config = config(null, Duration.ofSeconds(5), spec);
      DeviceException e =
          assertThrows(
              DeviceException.class,
              () ->
                  Machine.create(
                      new ScriptedKvm(), config, image(), new ByteArrayOutputStream(), null));
      assertTrue(
          e.getMessage().contains("it overlaps the debug-exit port (ports 0xf4..0xf4)")
              || e.getMessage().contains("it overlaps low RAM (0x0..0x9ffff)"),
          e.getMessage());
    }
  }

  @Test
  void devicesMayNotOverlapEachOtherWhateverTheirRoutes() {
    MachineConfig config =
        config(
            null,
            Duration.ofSeconds(5),
            "testdev,mmio=0xfeb00000,size=0x1000,route=in-process,name=a",
            "testdev,mmio=0xfeb00800,size=0x1000,route=in-process,name=b");
    DeviceException e =
        assertThrows(
            DeviceException.class,
            () ->
                Machine.create(
                    new ScriptedKvm(), config, image(), new ByteArrayOutputStream(), null));
    assertEquals(
        "cannot place device b: it overlaps device a (0xfeb00000..0xfeb00fff)", e.getMessage());
  }

  /** A device that forks a child which keeps running: the VM's end ends them both. */
  @Test
  void whatADeviceForkedEndsWithTheVm() throws Exception {
    Path forker = script("forker", "sleep 1000 &\nexec sleep 1000");
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.IoOut(0xf4, 1, 0));
    MachineConfig config =
        config(null, Duration.ofSeconds(5), "exec=" + forker + ",pio=0x2000,size=1");
    int pgid;
    try (Machine m = Machine.create(kvm, config, image(), new ByteArrayOutputStream(), null)) {
      pgid = m.devicePids().getFirst();
      await("the device forked its sleeper")
          .atMost(Duration.ofSeconds(10))
          .until(() -> ProcessGroup.members(pgid).size() == 2);
      assertEquals(new VmOutcome.GuestExited(0), m.run());
    }
    await("no process of the device's group is left")
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(List.of(), ProcessGroup.members(pgid)));
  }

  @Test
  void aFailedDeviceIsQuotedByItsLastLinesOnly() {
    assertEquals("short", DeviceManager.lastWords("short"));
    String lines = "old line\n".repeat(100) + "the last words";
    assertEquals("old line\n".repeat(42) + "the last words", DeviceManager.lastWords(lines));
    assertEquals("..." + "x".repeat(400), DeviceManager.lastWords("x".repeat(65536)));
  }

  @Test
  void anNvmeControllerNeedsAMachineWithPci() {
    ScriptedKvm kvm = new ScriptedKvm();
    MachineConfig config =
        config(null, Duration.ofSeconds(5), "nvme,disk=" + dir.resolve("d.img") + ",size=4096");
    DeviceException e =
        assertThrows(
            DeviceException.class,
            () -> Machine.create(kvm, config, image(), new ByteArrayOutputStream(), null));
    assertEquals(
        "cannot place device nvme@d.img: an nvme controller is a PCI device, and this machine has"
            + " no PCI (boot a --kernel or --bios machine)",
        e.getMessage());
    assertEquals(false, Files.exists(dir.resolve("d.img")), "nothing was started or created");
  }
}
