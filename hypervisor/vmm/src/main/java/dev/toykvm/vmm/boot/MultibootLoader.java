package dev.toykvm.vmm.boot;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Loads a Multiboot v1 kernel as QEMU's {@code -kernel} does: an ELF32 file with a multiboot header
 * in its first 8 KiB (segments at their physical addresses), or any file whose header has the
 * "a.out kludge" (bit 16: the header's address fields say where it goes). The result is a {@link
 * BootPlan}: what to copy where, and the entry state; nothing is written here.
 *
 * <p>Where things go: the kernel's segments where it asks; the modules ({@code --initrd}) one after
 * the other from the first page above the kernel; the information block at {@link #INFO_BASE} in
 * low memory, with a GDT for the flat segments at {@link #GDT_BASE}.
 */
public final class MultibootLoader {
  private MultibootLoader() {}

  /** Where the multiboot information block goes (QEMU puts its own in low memory too). */
  public static final long INFO_BASE = 0x9000;

  /** The GDT whose flat descriptors the entry segments' hidden state matches. */
  public static final long GDT_BASE = 0x8000;

  /** The boot loader name the kernel finds in the information. */
  public static final String LOADER_NAME = "toykvm";

  /** The end of what the loader itself puts in low memory (GDT and information block). */
  public static final long LOADER_END = 0x1_0000;

  static final long PAGE = 4096;

  /**
   * A module to load: its bytes and the string the kernel sees (QEMU: "file args").
   *
   * @param string the module's command line
   * @param bytes its contents
   */
  public record ModuleFile(String string, byte[] bytes) {}

  /**
   * Plans the boot of {@code kernel}.
   *
   * @param memoryMap the machine's map ({@link PcMemoryMap})
   * @throws BootFormatException if the file is not a kernel this loader can boot, or something
   *     would land outside RAM
   */
  public static BootPlan plan(
      byte[] kernel, String cmdline, List<ModuleFile> modules, List<E820Entry> memoryMap) {
    Optional<MultibootHeader> found = MultibootHeader.find(kernel);
    List<LoadSegment> segments = new ArrayList<>();
    long entry;
    if (found.isPresent() && found.get().aoutKludge()) {
      found.get().checkSupported();
      segments.add(found.get().aoutSegment(kernel));
      entry = found.get().entryAddr();
    } else {
      if (Elf.isElf(kernel)) {
        Elf elf = Elf.parse(kernel);
        if (elf.is64()) {
          throw new BootFormatException(
              "it is a 64-bit ELF file; multiboot boots 32-bit (ELFCLASS32) kernels only");
        }
        if (found.isEmpty()) {
          throw new BootFormatException("no multiboot header in the first 8 KiB");
        }
        found.get().checkSupported();
        segments.addAll(elf.segments());
        entry = elf.physicalEntry();
      } else if (found.isEmpty()) {
        throw new BootFormatException("no multiboot header in the first 8 KiB");
      } else {
        throw new BootFormatException(
            "not an ELF file, and its multiboot header has no load addresses (bit 16)");
      }
    }
    long kernelEnd = 0;
    for (LoadSegment s : segments) {
      checkInRam(memoryMap, s, "segment");
      kernelEnd = Math.max(kernelEnd, s.end());
    }
    List<LoadSegment> pieces = new ArrayList<>(segments);
    List<MultibootInfo.Module> placed = new ArrayList<>();
    long next = align(kernelEnd);
    for (ModuleFile m : modules) {
      LoadSegment s = new LoadSegment(next, m.bytes(), m.bytes().length);
      checkInRam(memoryMap, s, "module \"" + m.string() + "\"");
      pieces.add(s);
      placed.add(new MultibootInfo.Module(s.address(), s.end(), m.string()));
      next = align(s.end());
    }
    byte[] info = MultibootInfo.build(INFO_BASE, memoryMap, cmdline, placed, LOADER_NAME);
    LoadSegment infoPiece = new LoadSegment(INFO_BASE, info, info.length);
    if (!PcMemoryMap.isRam(memoryMap, INFO_BASE, infoPiece.end())) {
      throw new BootFormatException(
          String.format(
              "the multiboot information (%d bytes: command line and modules) does not fit in"
                  + " low memory below 0x%x",
              info.length, PcMemoryMap.EBDA));
    }
    pieces.add(infoPiece);
    pieces.add(new LoadSegment(GDT_BASE, EntryState.gdt(), EntryState.gdt().length));
    return new BootPlan(pieces, entry, INFO_BASE, GDT_BASE);
  }

  private static void checkInRam(List<E820Entry> map, LoadSegment s, String what) {
    if (!PcMemoryMap.isRam(map, s.address(), s.end())) {
      throw new BootFormatException(
          String.format("%s [0x%x, 0x%x) outside RAM", what, s.address(), s.end()));
    }
    if (s.address() < LOADER_END && s.end() > GDT_BASE) {
      throw new BootFormatException(
          String.format(
              "%s [0x%x, 0x%x) overlaps the loader's GDT and information [0x%x, 0x%x)",
              what, s.address(), s.end(), GDT_BASE, LOADER_END));
    }
  }

  private static long align(long a) {
    return (a + PAGE - 1) & -PAGE;
  }
}
