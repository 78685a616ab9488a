package dev.toykvm.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The test kernels built from {@code guest-firmware/kernels}, booted with {@code toykvm run
 * --kernel}. {@code mbtest} (an ELF32 multiboot kernel) checks the multiboot information against
 * fw_cfg, uses pc-testdev and exits through port 0xf4 in QEMU's mode: status 1 on success, 3 on
 * failure; linked at 1 MiB, and as {@code mbtest-4m} at 4 MiB, each with 1 MiB of .bss. {@code
 * linuxtest} (a bzImage-format file, {@code .bzImage}) checks its Linux {@code boot_params} and
 * exits the same way. {@code lapictimer} counts local APIC timer ticks in {@code hlt} against the
 * PIT (status 1 on success). {@code smp} starts the other CPUs with INIT and SIPI, has each check
 * in, and sends each an IPI and an NMI (run it with {@code --cpus N}); same exit statuses. {@code
 * echo} echoes each line COM1 receives ("echo: LINE") until a line "quit" (status 1 in QEMU's
 * mode), taking its input through IRQ 4 and the PIC; {@code echo-poll} is the same, polling the
 * UART. {@code pcitest} enumerates PCI bus 0 and checks the chipset (guest-firmware/README.md).
 * {@code irqtest} takes the test device's interrupts: a level line with resample and an edge
 * through the I/O APIC, and an MSI ({@code --device testdev,...,msi=}); "nodev" on its command line
 * checks only the controllers. {@code nvmetest} drives an NVMe controller (PCI class 010802):
 * reset, admin queue, Identify, I/O queue pairs, a 1 MiB LBA-dependent pattern written, flushed,
 * read back and verified; its command line picks {@code irq=poll|msix|intx}, {@code queues=N},
 * {@code cpus}, {@code check=errors} (malformed commands) and {@code buf=high} (data buffers above
 * 4 GiB); it ends with {@code nvmetest: PASS} (status 1 in QEMU's mode) or a {@code FAIL} line
 * (status 3). {@code nvmeregs} finds the NVMe controller ({@code --device nvme}), places its BAR0
 * if nothing did, and reads CAP and VS through it. {@code highmem} finds the RAM above 4 GiB in the
 * memory map, checks fw_cfg's and the CMOS's sizes, and writes and reads it back in 64-bit mode
 * (with PAE paging if its command line says "pae"); it ends with {@code highmem: PASS} or {@code
 * highmem: FAIL}.
 */
public final class TestKernels {
  private TestKernels() {}

  /** The kernels there are. */
  public static final List<String> NAMES =
      List.of(
          "mbtest",
          "mbtest-4m",
          "linuxtest",
          "lapictimer",
          "smp",
          "echo",
          "echo-poll",
          "pcitest",
          "irqtest",
          "nvmetest",
          "nvmeregs",
          "highmem");

  /** The kernels in the Linux bzImage format. */
  static final List<String> LINUX = List.of("linuxtest");

  /** The file name of kernel {@code name}: NAME.elf, or NAME.bzImage for a Linux kernel. */
  public static String fileName(String name) {
    return name + (LINUX.contains(name) ? ".bzImage" : ".elf");
  }

  /**
   * The bytes of kernel {@code name}.
   *
   * @throws IllegalArgumentException if there is no such kernel
   */
  public static byte[] load(String name) {
    try (InputStream in =
        TestKernels.class.getClassLoader().getResourceAsStream("kernels/" + fileName(name))) {
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
    Path file = dir.resolve(fileName(name));
    Files.write(file, load(name));
    return file;
  }
}
