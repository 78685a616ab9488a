package dev.toykvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The loadable view of an x86 ELF executable (System V ABI; 32-bit {@code EM_386} or 64-bit {@code
 * EM_X86_64}, little-endian): its entry point and its {@code PT_LOAD} segments, placed at their
 * physical addresses ({@code p_paddr}), as a multiboot loader and QEMU's {@code -kernel} place
 * them. Every offset and size is checked against the file: a malformed file is a {@link
 * BootFormatException} naming the field, never an exception of another kind.
 *
 * @param is64 whether the file is ELFCLASS64
 * @param entry {@code e_entry} as the file gives it (a virtual address)
 * @param segments the {@code PT_LOAD} segments with a non-zero memory size, in file order
 * @param virtualAddresses each segment's {@code p_vaddr}, in the same order
 */
public record Elf(
    boolean is64, long entry, List<LoadSegment> segments, List<Long> virtualAddresses) {
  static final int EM_386 = 3;
  static final int EM_X86_64 = 62;
  static final int PT_LOAD = 1;

  /** Whether {@code file} starts with the ELF magic. */
  public static boolean isElf(byte[] file) {
    return file.length >= 4
        && file[0] == 0x7f
        && file[1] == 'E'
        && file[2] == 'L'
        && file[3] == 'F';
  }

  /**
   * Parses {@code file}.
   *
   * @throws BootFormatException if it is not a little-endian x86 ELF executable, or a header,
   *     program header or segment lies outside the file
   */
  public static Elf parse(byte[] file) {
    if (!isElf(file)) {
      throw new BootFormatException("not an ELF file (no \\x7fELF magic)");
    }
    if (file.length < 52) {
      throw new BootFormatException("truncated ELF header (" + file.length + " bytes)");
    }
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    int elfClass = file[4];
    if (elfClass != 1 && elfClass != 2) {
      throw new BootFormatException("unknown ELF class " + elfClass + " (neither 32- nor 64-bit)");
    }
    boolean is64 = elfClass == 2;
    if (file[5] != 1) {
      throw new BootFormatException("not a little-endian ELF file");
    }
    if (is64 && file.length < 64) {
      throw new BootFormatException("truncated ELF64 header (" + file.length + " bytes)");
    }
    int machine = b.getShort(18) & 0xffff;
    if (machine != (is64 ? EM_X86_64 : EM_386)) {
      throw new BootFormatException(
          "ELF machine "
              + machine
              + " is not "
              + (is64 ? "x86-64 (62)" : "i386 (3)")
              + (machine == EM_X86_64 || machine == EM_386 ? " as its class says" : ""));
    }
    long entry = is64 ? b.getLong(24) : b.getInt(24) & 0xffff_ffffL;
    long phoff = is64 ? b.getLong(32) : b.getInt(28) & 0xffff_ffffL;
    int phentsize = b.getShort(is64 ? 54 : 42) & 0xffff;
    int phnum = b.getShort(is64 ? 56 : 44) & 0xffff;
    int wanted = is64 ? 56 : 32;
    if (phnum == 0) {
      throw new BootFormatException("the ELF file has no program headers");
    }
    if (phentsize < wanted) {
      throw new BootFormatException("program header size " + phentsize + " < " + wanted);
    }
    if (!inFile(file, phoff, (long) phentsize * phnum)) {
      throw new BootFormatException(
          String.format(
              "program headers [0x%x, +%d x %d) lie outside the %d-byte file",
              phoff, phnum, phentsize, file.length));
    }
    List<LoadSegment> segments = new ArrayList<>();
    List<Long> vaddrs = new ArrayList<>();
    for (int i = 0; i < phnum; i++) {
      int ph = (int) (phoff + (long) i * phentsize);
      if (b.getInt(ph) != PT_LOAD) {
        continue;
      }
      long offset = is64 ? b.getLong(ph + 8) : b.getInt(ph + 4) & 0xffff_ffffL;
      long vaddr = is64 ? b.getLong(ph + 16) : b.getInt(ph + 8) & 0xffff_ffffL;
      long paddr = is64 ? b.getLong(ph + 24) : b.getInt(ph + 12) & 0xffff_ffffL;
      long filesz = is64 ? b.getLong(ph + 32) : b.getInt(ph + 16) & 0xffff_ffffL;
      long memsz = is64 ? b.getLong(ph + 40) : b.getInt(ph + 20) & 0xffff_ffffL;
      if (memsz == 0) {
        continue;
      }
      if (Long.compareUnsigned(filesz, memsz) > 0) {
        throw new BootFormatException(
            String.format("segment %d: file size 0x%x > memory size 0x%x", i, filesz, memsz));
      }
      if (!inFile(file, offset, filesz)) {
        throw new BootFormatException(
            String.format(
                "segment %d: [0x%x, +0x%x) lies outside the %d-byte file",
                i, offset, filesz, file.length));
      }
      if (Long.compareUnsigned(paddr + memsz, paddr) < 0) {
        throw new BootFormatException(
            String.format("segment %d: [0x%x, +0x%x) wraps around", i, paddr, memsz));
      }
      byte[] bytes = new byte[(int) filesz];
      System.arraycopy(file, (int) offset, bytes, 0, bytes.length);
      segments.add(new LoadSegment(paddr, bytes, memsz));
      vaddrs.add(vaddr);
    }
    if (segments.isEmpty()) {
      throw new BootFormatException("the ELF file has no PT_LOAD segment");
    }
    return new Elf(is64, entry, List.copyOf(segments), List.copyOf(vaddrs));
  }

  /**
   * The physical address of the entry point: {@code e_entry} moved by the difference between the
   * physical and virtual address of the segment that holds it (a kernel linked high but loaded
   * low), or unchanged if no segment holds it.
   */
  public long physicalEntry() {
    for (int i = 0; i < segments.size(); i++) {
      long vaddr = virtualAddresses.get(i);
      LoadSegment s = segments.get(i);
      if (Long.compareUnsigned(entry, vaddr) >= 0
          && Long.compareUnsigned(entry - vaddr, s.memorySize()) < 0) {
        return s.address() + (entry - vaddr);
      }
    }
    return entry;
  }

  private static boolean inFile(byte[] file, long offset, long length) {
    return offset >= 0 && length >= 0 && offset <= file.length && length <= file.length - offset;
  }
}
