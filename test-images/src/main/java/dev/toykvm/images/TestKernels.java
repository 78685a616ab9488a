package dev.toykvm.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The multiboot test kernels built from {@code guest-firmware/kernels} (ELF32 files, booted with
 * {@code toykvm run --kernel}). {@code mbtest} checks the multiboot information against fw_cfg,
 * uses pc-testdev and exits through port 0xf4 in QEMU's mode: status 1 on success, 3 on failure;
 * linked at 1 MiB, and as {@code mbtest-4m} at 4 MiB, each with 1 MiB of .bss. {@code pcitest}
 * enumerates PCI bus 0 and checks the chipset (guest-firmware/README.md).
 */
public final class TestKernels {
  private TestKernels() {}

  /** The kernels there are. */
  public static final List<String> NAMES = List.of("mbtest", "mbtest-4m", "pcitest");

  /**
   * The bytes of kernel {@code name}.
   *
   * @throws IllegalArgumentException if there is no such kernel
   */
  public static byte[] load(String name) {
    try (InputStream in =
        TestKernels.class.getClassLoader().getResourceAsStream("kernels/" + name + ".elf")) {
      if (in == null || !NAMES.contains(name)) {
        throw new IllegalArgumentException("no test kernel named " + name + "; known: " + NAMES);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read test kernel " + name, e);
    }
  }

  /** Writes kernel {@code name} to {@code dir} and returns the file. */
  public static Path extract(String name, Path dir) throws IOException {
    Path file = dir.resolve(name + ".elf");
    Files.write(file, load(name));
    return file;
  }
}
