package dev.toykvm.vmm.pci;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The i440FX's Programmable Attribute Map (Intel 82441FX datasheet, registers PAM0-PAM6 at
 * 0x59-0x5f): what the 13 pieces of 0xc0000-0xfffff are, so that firmware can copy itself into RAM
 * ("shadow") and run from there. PAM0's high nibble governs 0xf0000-0xfffff; PAM1-PAM6 govern
 * 0xc0000-0xeffff in 16 KiB pieces, the low nibble the lower piece and the high nibble the upper.
 * Each nibble's bit 0 (RE) sends reads to RAM, bit 1 (WE) writes:
 *
 * <pre>
 * mode  reads from             writes go to        how
 * 0     ROM (or nothing)       the ROM: dropped    read-only slot of the firmware, or no slot
 * 1     RAM                    dropped             read-only slot of the shadow RAM
 * 2     ROM (or nothing)       RAM                 read-only slot of the firmware, or no slot;
 *                                                  the write's exit is stored into the RAM
 * 3     RAM                    RAM                 a RAM slot
 * </pre>
 *
 * <p>"ROM" is the firmware's copy below 1 MiB (its last 128 KiB, QEMU's isa-bios) where there is
 * one, else nothing (reads all-ones, the PCI bus's answer). The shadow RAM is the guest RAM file's
 * bytes at the same addresses (file offset = guest-physical address), hidden until a PAM shows
 * them. Each piece is a KVM memory slot of its own ({@link #slots} from {@code firstSlot}), deleted
 * and made again when its mode changes; a write to a read-only slot or to a piece with no slot
 * exits to the VMM and reaches {@link #window()}, which drops it or stores it in RAM by the mode.
 *
 * <p>Changed from the VMM's vCPU thread, while the vCPU is out of the guest.
 */
public final class Pam {
  private static final Logger log = LoggerFactory.getLogger(Pam.class);

  /** PAM0's offset in the host bridge's configuration space; PAM1-6 follow. */
  public static final int PAM0 = 0x59;

  public static final int REGISTERS = 7;

  /** The window the registers govern: 0xc0000-0xfffff. */
  public static final long BASE = 0xc_0000L;

  public static final long SIZE = 0x4_0000L;

  /** Pieces, hence slots: 12 of 16 KiB and one of 64 KiB. */
  public static final int PIECES = 13;

  private static final int READ_ENABLE = 1;
  private static final int WRITE_ENABLE = 2;

  private record Piece(long base, long size, int register, int shift) {}

  private static final Piece[] LAYOUT = layout();

  private final VmFd vm;
  private final int firstSlot;
  private final MemorySegment ram;
  private final MemorySegment rom;
  private final long romBase;
  private final int[] modes = new int[PIECES];
  private final boolean[] mapped = new boolean[PIECES];
  private final AtomicLong droppedWrites = new AtomicLong();

  /**
   * Maps the pieces as after reset (every PAM 0: the ROM where there is one).
   *
   * @param firstSlot the first of {@link #PIECES} memory slots this map may use
   * @param ram guest RAM, file offset = guest-physical address, at least 1 MiB
   * @param rom the firmware's bytes below 1 MiB, from {@code romBase} up to 1 MiB, or {@code null}
   * @param romBase where {@code rom} starts: 0xe0000 or 0xf0000
   */
  public Pam(VmFd vm, int firstSlot, MemorySegment ram, MemorySegment rom, long romBase) {
    this.vm = vm;
    this.firstSlot = firstSlot;
    this.ram = ram;
    this.rom = rom;
    this.romBase = romBase;
    for (int i = 0; i < PIECES; i++) {
      map(i);
    }
  }

  private static Piece[] layout() {
    Piece[] p = new Piece[PIECES];
    for (int i = 0; i < 12; i++) {
      p[i] = new Piece(BASE + i * 0x4000L, 0x4000, PAM0 + 1 + i / 2, i % 2 * 4);
    }
    p[12] = new Piece(0xf_0000L, 0x1_0000, PAM0, 4);
    return p;
  }

  /**
   * Takes the PAM registers' values (7 bytes from PAM0) and remaps the pieces whose mode changed.
   */
  public void update(int[] registers) {
    for (int i = 0; i < PIECES; i++) {
      Piece p = LAYOUT[i];
      int mode = registers[p.register() - PAM0] >>> p.shift() & 3;
      if (mode != modes[i]) {
        log.debug(
            "pam: 0x{}-0x{} mode {} -> {}",
            Long.toHexString(p.base()),
            Long.toHexString(p.base() + p.size() - 1),
            modes[i],
            mode);
        modes[i] = mode;
        map(i);
      }
    }
  }

  /** The mode (0-3) of the piece holding {@code address}. */
  public int mode(long address) {
    return modes[piece(address)];
  }

  /** Writes dropped so far (to the ROM, or to RAM a PAM made read-only). */
  public long droppedWrites() {
    return droppedWrites.get();
  }

  /** Memory slots a map uses at most. */
  public static int slots() {
    return PIECES;
  }

  private void map(int i) {
    Piece p = LAYOUT[i];
    int slot = firstSlot + i;
    try {
      if (mapped[i]) {
        vm.setUserMemoryRegion(
            new KvmUserspaceMemoryRegion(slot, 0, p.base(), 0, MemorySegment.NULL));
        mapped[i] = false;
      }
      int mode = modes[i];
      MemorySegment backing;
      int flags = KvmConstants.KVM_MEM_READONLY;
      if ((mode & READ_ENABLE) != 0) {
        backing = ram.asSlice(p.base(), p.size());
        flags = (mode & WRITE_ENABLE) != 0 ? 0 : KvmConstants.KVM_MEM_READONLY;
      } else if (hasRom(p)) {
        backing = rom.asSlice(p.base() - romBase, p.size());
      } else {
        return; // nothing: accesses exit to the window
      }
      vm.setUserMemoryRegion(
          new KvmUserspaceMemoryRegion(slot, flags, p.base(), p.size(), backing));
      mapped[i] = true;
    } catch (KvmException e) {
      // A VMM bug, not the guest's doing: the piece stays unmapped and the window answers for it.
      log.error(
          "pam: cannot map 0x{} in mode {}: {}",
          Long.toHexString(p.base()),
          modes[i],
          e.getMessage());
    }
  }

  private boolean hasRom(Piece p) {
    return rom != null && p.base() >= romBase;
  }

  private static int piece(long address) {
    return address >= 0xf_0000L ? 12 : (int) ((address - BASE) / 0x4000);
  }

  /**
   * The device on the MMIO bus for {@link #BASE}..+{@link #SIZE}: the accesses that exit (writes to
   * read-only pieces, anything in a piece with no slot), byte by byte by each byte's piece.
   */
  public BusDevice window() {
    return new BusDevice() {
      @Override
      public long read(long offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
          v = v << 8 | readByte(BASE + offset + i);
        }
        return v;
      }

      @Override
      public void write(long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
          writeByte(BASE + offset + i, (byte) (value >>> (8 * i)));
        }
      }
    };
  }

  private int readByte(long address) {
    if (address >= BASE + SIZE) {
      return 0xff;
    }
    int i = piece(address);
    if ((modes[i] & READ_ENABLE) != 0) {
      return ram.get(ValueLayout.JAVA_BYTE, address) & 0xff;
    }
    return hasRom(LAYOUT[i]) ? rom.get(ValueLayout.JAVA_BYTE, address - romBase) & 0xff : 0xff;
  }

  private void writeByte(long address, byte b) {
    if (address < BASE + SIZE && (modes[piece(address)] & WRITE_ENABLE) != 0) {
      ram.set(ValueLayout.JAVA_BYTE, address, b);
      return;
    }
    if (droppedWrites.getAndIncrement() == 0) {
      log.debug(
          "pam: a write to 0x{} was dropped (ROM, or RAM a PAM register makes read-only); as on"
              + " a PC (logged once)",
          Long.toHexString(address));
    }
  }
}
