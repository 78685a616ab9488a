package dev.toykvm.vmm;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.kvm.Kvm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Boots Debian's SeaBIOS on a {@code --bios} machine with no devices and returns its debug log
 * (port 0x402), stopping the machine once a line with {@code marker} was printed (or at {@code
 * timeout}).
 */
final class SeaBiosDebugLog {
  static final Path SEABIOS = Path.of("/usr/share/seabios/bios-256k.bin");

  private SeaBiosDebugLog() {}

  /** The debug console: stops the machine at the end of the first line after {@code marker}. */
  private static final class Console extends OutputStream {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final AtomicReference<Machine> machine = new AtomicReference<>();
    final String marker;

    Console(String marker) {
      this.marker = marker;
    }

    @Override
    public synchronized void write(int b) {
      bytes.write(b);
      if (b == '\n' && text().contains(marker) && machine.get() != null) {
        machine.get().stop();
      }
    }

    synchronized String text() {
      return bytes.toString(StandardCharsets.US_ASCII);
    }
  }

  static String boot(long memory, Duration timeout, String marker) throws IOException {
    Console console = new Console(marker);
    MachineConfig config =
        new MachineConfig(
            memory, false, Optional.of(timeout), List.of(), DeviceSpec.Route.IN_PROCESS);
    FirmwareBoot boot =
        new FirmwareBoot(
            new Firmware(SEABIOS.toString(), Files.readAllBytes(SEABIOS)),
            DebugExitPort.Mode.QEMU,
            console);
    try (Kvm kvm = Kvm.open();
        Machine m = Machine.firmware(kvm, config, boot, new ByteArrayOutputStream(), null)) {
      console.machine.set(m);
      m.run();
    }
    return console.text();
  }
}
