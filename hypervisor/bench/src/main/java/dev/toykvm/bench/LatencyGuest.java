package dev.toykvm.bench;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The guest of the interrupt latency rows: real mode, the master PIC initialised (vector base 8,
 * only IRQ {@value #GSI} unmasked, level-triggered in the ELCR for the level rows), IVT[13] ->
 * 0000:1100, {@code out %al,$0xf6} (ready: an edge before the PIC's ICW1 would be lost), {@code
 * sti}, then either {@code jmp $} (busy) or {@code l: hlt; jmp l} (halted). The handler at 0x1100:
 * {@code out %al,$0xf5} (its first instruction, an exit to the VMM), then the EOI ({@code mov
 * $0x20,%al; out %al,$0x20}) and {@code iret}.
 *
 * <p>GSI 5 because KVM's PIC lets IRQs 0-2 be only edge-triggered (ELCR mask 0xf8); the rows that
 * compare with the old measurement use the same line.
 */
final class LatencyGuest {
  private LatencyGuest() {}

  static final int GSI = 5;
  static final int HANDLER_PORT = 0xf5;
  static final int READY_PORT = 0xf6;

  /** What the vCPU does while it waits for the interrupt. */
  enum Wait {
    BUSY("busy loop"),
    HLT("hlt");

    final String label;

    Wait(String label) {
      this.label = label;
    }
  }

  private static final int[] PIC_INIT = {
    0xb0, 0x11, 0xe6, 0x20, // mov $0x11,%al; out %al,$0x20   ICW1
    0xb0, 0x08, 0xe6, 0x21, // mov $0x08,%al; out %al,$0x21   ICW2: vectors 8-15
    0xb0, 0x04, 0xe6, 0x21, // mov $0x04,%al; out %al,$0x21   ICW3
    0xb0, 0x01, 0xe6, 0x21, // mov $0x01,%al; out %al,$0x21   ICW4
    0xb0, 0xdf, 0xe6, 0x21 //  mov $0xdf,%al; out %al,$0x21   OCW1: only IRQ 5
  };

  private static final int[] LEVEL = {
    0xb0,
    0x20, // mov $0x20,%al    ELCR bit 5
    0xba,
    0xd0,
    0x04, // mov $0x4d0,%dx
    0xee // out %al,(%dx)
  };

  private static final int[] READY = {0xe6, READY_PORT}; // out %al,$0xf6
  private static final int[] BUSY = {0xfb, 0xeb, 0xfe}; // sti; jmp $
  private static final int[] HALT = {0xfb, 0xf4, 0xeb, 0xfd}; // sti; l: hlt; jmp l

  private static final int[] HANDLER = {
    0xe6,
    HANDLER_PORT, // out %al,$0xf5
    0xb0,
    0x20,
    0xe6,
    0x20, // mov $0x20,%al; out %al,$0x20   EOI
    0xcf // iret
  };

  /**
   * Fills {@code vm} (which has its irqchip) with 1 MiB of RAM holding the guest, makes vCPU 0 and
   * runs it to its ready exit.
   *
   * @throws BenchException if the guest does not reach it
   */
  static VcpuFd create(VmFd vm, Arena arena, Wait wait, boolean level) {
    MemorySegment ram = arena.allocate(1 << 20, 4096);
    long at = 0x1000;
    at = put(ram, at, PIC_INIT);
    if (level) {
      at = put(ram, at, LEVEL);
    }
    at = put(ram, at, READY);
    put(ram, at, wait == Wait.BUSY ? BUSY : HALT);
    put(ram, 0x1100, HANDLER);
    put(ram, (8 + GSI) * 4, new int[] {0x00, 0x11, 0x00, 0x00});
    VcpuFd vcpu = realModeVcpu(vm, ram);
    try {
      VcpuExit exit = vcpu.run();
      if (!(exit instanceof VcpuExit.IoOut o) || o.port() != READY_PORT) {
        throw new BenchException("the latency guest stopped with " + exit + " before it was ready");
      }
      return vcpu;
    } catch (RuntimeException e) {
      vcpu.close();
      throw e;
    }
  }

  /**
   * Maps {@code ram} at guest-physical 0 and makes vCPU 0 in real mode at 0000:1000, its stack at
   * 0x8000 and its IVT at 0: where every small benchmark guest starts.
   */
  static VcpuFd realModeVcpu(VmFd vm, MemorySegment ram) {
    vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, ram.byteSize(), ram));
    VcpuFd vcpu = vm.createVcpu(0);
    try {
      vcpu.setSregs(
          vcpu.getSregs()
              .withCs(KvmSegment.realMode(0, true))
              .withDataSegments(KvmSegment.realMode(0, false))
              .withTables(new KvmDtable(0, 0xffff), new KvmDtable(0, 0x3ff)));
      vcpu.setRegs(vcpu.getRegs().withRip(0x1000).withRsp(0x8000).withRflags(2));
      return vcpu;
    } catch (RuntimeException e) {
      vcpu.close();
      throw e;
    }
  }

  /** Copies {@code bytes} (each 0-255) to {@code ram} at {@code at}; returns the end. */
  static long put(MemorySegment ram, long at, int[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      ram.set(ValueLayout.JAVA_BYTE, at + i, (byte) bytes[i]);
    }
    return at + bytes.length;
  }
}
