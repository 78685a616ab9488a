package dev.toykvm.vmm;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.vmm.boot.BootFormatException;
import dev.toykvm.vmm.boot.BootPlan;
import dev.toykvm.vmm.boot.E820Entry;
import dev.toykvm.vmm.boot.LinuxHeader;
import dev.toykvm.vmm.boot.LinuxLoader;
import dev.toykvm.vmm.boot.MultibootLoader;
import dev.toykvm.vmm.boot.PcMemoryMap;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code --kernel}, {@code --append} and {@code --initrd} as QEMU does and plans the boot. A
 * Linux bzImage (0xAA55 at 0x1fe, "HdrS" at 0x202) goes to {@link LinuxLoader}: the kernel sees
 * {@code --append} unchanged and {@code --initrd} is one file, its initrd. Anything else is a
 * multiboot kernel: it sees the command line "FILE CMDLINE" (the file name first, as QEMU and GRUB
 * pass it), and each module of the comma-separated {@code --initrd} list is "FILE ARGS": the file
 * is loaded, the whole string is the module's string.
 */
public final class KernelFiles {
  private KernelFiles() {}

  /** The largest kernel or module file read. */
  static final long MAX_FILE = 1L << 30;

  /**
   * @param memory the machine's RAM top
   * @throws ImageException ("cannot load kernel X: why") if a file is missing, unreadable or not a
   *     kernel the loader can boot
   */
  public static KernelBoot load(
      Path kernel,
      String append,
      String initrd,
      long memory,
      DebugExitPort.Mode debugExit,
      OutputStream debugcon) {
    return load(kernel, append, initrd, memory, debugExit, debugcon, false);
  }

  /**
   * As {@link #load(Path, String, String, long, DebugExitPort.Mode, OutputStream)}, and {@code
   * linux64} enters a Linux kernel through the 64-bit boot protocol instead of the 32-bit one
   * (ignored for multiboot kernels).
   */
  public static KernelBoot load(
      Path kernel,
      String append,
      String initrd,
      long memory,
      DebugExitPort.Mode debugExit,
      OutputStream debugcon,
      boolean linux64) {
    String name = kernel.toString();
    byte[] bytes = read(name, kernel, "kernel");
    if (LinuxHeader.isLinux(bytes)) {
      byte[] initrdBytes =
          initrd == null || initrd.isEmpty() ? null : read(name, Path.of(initrd), "initrd");
      List<E820Entry> map = PcMemoryMap.of(memory);
      try {
        BootPlan plan =
            LinuxLoader.plan(bytes, append == null ? "" : append, initrdBytes, map, linux64);
        return new KernelBoot(name, plan, map, debugExit, debugcon);
      } catch (BootFormatException e) {
        throw ImageException.withMessage("cannot load kernel " + name + ": " + e.getMessage());
      }
    }
    List<MultibootLoader.ModuleFile> modules = new ArrayList<>();
    if (initrd != null && !initrd.isBlank()) {
      for (String spec : initrd.split(",")) {
        String s = spec.strip();
        if (s.isEmpty()) {
          throw ImageException.withMessage(
              "cannot load kernel " + name + ": an empty module in --initrd '" + initrd + "'");
        }
        String file = s.split(" ", 2)[0];
        modules.add(new MultibootLoader.ModuleFile(s, read(name, Path.of(file), "module")));
      }
    }
    List<E820Entry> map = PcMemoryMap.of(memory);
    String cmdline = append == null || append.isEmpty() ? name : name + " " + append;
    try {
      BootPlan plan = MultibootLoader.plan(bytes, cmdline, modules, map);
      return new KernelBoot(name, plan, map, debugExit, debugcon);
    } catch (BootFormatException e) {
      throw ImageException.withMessage("cannot load kernel " + name + ": " + e.getMessage());
    }
  }

  private static byte[] read(String kernel, Path file, String what) {
    try {
      if (!Files.isRegularFile(file)) {
        throw ImageException.withMessage(
            "cannot load kernel "
                + kernel
                + ": "
                + (what.equals("kernel") ? "" : what + " " + file + ": ")
                + (Files.exists(file) ? "not a regular file" : "no such file"));
      }
      if (Files.size(file) > MAX_FILE) {
        throw ImageException.withMessage(
            "cannot load kernel " + kernel + ": " + what + " " + file + " is larger than 1 GiB");
      }
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw ImageException.withMessage(
          "cannot load kernel " + kernel + ": cannot read " + file + ": " + e.getMessage());
    }
  }
}
