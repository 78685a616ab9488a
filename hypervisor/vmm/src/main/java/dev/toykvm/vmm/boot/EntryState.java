package dev.toykvm.vmm.boot;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The CPU state in which a Multiboot v1 kernel starts (specification 0.6.96, 3.2): 32-bit protected
 * mode, paging off, CS a flat 4 GiB code segment, DS/ES/FS/GS/SS flat 4 GiB data segments, IF = 0,
 * EAX = 0x2BADB002, EBX = the information's address. The segments' hidden state is set directly
 * (KVM_SET_SREGS) and matches the descriptors of the small GDT this class also provides, so a
 * kernel that reloads a selector before building its own GDT still gets flat segments.
 */
public final class EntryState {
  private EntryState() {}

  /** Selector of the flat code segment (GDT entry 1). */
  public static final int CODE_SELECTOR = 0x08;

  /** Selector of the flat data segment (GDT entry 2). */
  public static final int DATA_SELECTOR = 0x10;

  static final long CR0_PE = 1;
  static final long CR0_ET = 1 << 4;

  /** The GDT: null, flat code (0x08), flat data (0x10). */
  public static byte[] gdt() {
    ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(8, 0x00cf_9b00_0000_ffffL); // base 0, limit 0xfffff pages, code XR accessed, D, G
    b.putLong(16, 0x00cf_9300_0000_ffffL); // base 0, limit 0xfffff pages, data RW accessed, B, G
    return b.array();
  }

  /** The special registers at entry, from the vCPU's current ones (APIC base etc. kept). */
  public static KvmSregs sregs(KvmSregs current, long gdtAddress) {
    return current
        .withCs(KvmSegment.flat32(CODE_SELECTOR, true))
        .withDataSegments(KvmSegment.flat32(DATA_SELECTOR, false))
        .withTables(new KvmDtable(gdtAddress, gdt().length - 1), new KvmDtable(0, 0))
        .withControl(CR0_PE | CR0_ET, 0, 0, 0);
  }

  /**
   * The special registers at entry for {@code plan}'s protocol: multiboot's, or Linux's ({@link
   * LinuxEntry}).
   */
  public static KvmSregs sregs(KvmSregs current, BootPlan plan) {
    return plan.protocol() == BootPlan.Protocol.MULTIBOOT
        ? sregs(current, plan.gdtAddress())
        : LinuxEntry.sregs(current, plan);
  }

  /** The general registers at entry for {@code plan}'s protocol. */
  public static KvmRegs regs(BootPlan plan) {
    return plan.protocol() == BootPlan.Protocol.MULTIBOOT
        ? regs(plan.entry(), plan.infoAddress())
        : LinuxEntry.regs(plan);
  }

  /** The general registers at entry: EAX magic, EBX info, EIP entry, everything else 0, IF 0. */
  public static KvmRegs regs(long entry, long infoAddress) {
    return new KvmRegs(
        MultibootInfo.BOOTLOADER_MAGIC & 0xffff_ffffL,
        infoAddress,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        entry,
        KvmRegs.RFLAGS_RESERVED);
  }
}
