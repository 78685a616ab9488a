package dev.toykvm.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The firmware test images built from {@code guest-firmware/kernels/fwtest.c} (booted with {@code
 * toykvm run --bios}): {@code fwtest-128k} and {@code fwtest-256k}, the same checks at two sizes.
 * They print on the debug console (port 0x402), end with {@code fwtest: PASS} or {@code fwtest:
 * FAIL}, and exit through port 0xf4 in QEMU's mode: status 1 on success, 3 on failure.
 */
public final class TestFirmware {
  private TestFirmware() {}

  /** The images there are. */
  public static final List<String> NAMES = List.of("fwtest-128k", "fwtest-256k");

  /**
   * The bytes of image {@code name}.
   *
   * @throws IllegalArgumentException if there is no such image
   */
  public static byte[] load(String name) {
    try (InputStream in =
        TestFirmware.class.getClassLoader().getResourceAsStream("firmware/" + name + ".bin")) {
      if (in == null || !NAMES.contains(name)) {
        throw new IllegalArgumentException("no test firmware named " + name + "; known: " + NAMES);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read test firmware " + name, e);
    }
  }

  /** Writes image {@code name} to {@code dir} and returns the file. */
  public static Path extract(String name, Path dir) throws IOException {
    Path file = dir.resolve(name + ".bin");
    Files.write(file, load(name));
    return file;
  }
}
