package dev.toykvm.selftests;

import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_PIO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.VcpuExit;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code rep ins}/{@code rep outs}: one {@code KVM_EXIT_IO} with a count and the data, as KVM
 * reports string I/O, rather than one exit per element.
 */
@Timeout(30)
class StringIoTest {

  private static byte[] bytes(MemorySegment ram, long at, int n) {
    return ram.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE);
  }

  private static byte[] pattern(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 7 + 1);
    }
    return b;
  }

  @Test
  void repOutsbOfAHundredBytesIsOneExitWithThemAll() {
    try (TestVm t = new TestVm()) {
      byte[] text = pattern(100);
      MemorySegment.copy(text, 0, t.ram, ValueLayout.JAVA_BYTE, 0x3000, 100);
      t.load(
          0x1000, 0x48, 0xc7, 0xc6, 0x00, 0x30, 0x00, 0x00, // mov rsi, 0x3000
          0x48, 0xc7, 0xc1, 0x64, 0x00, 0x00, 0x00, // mov rcx, 100
          0x66, 0xba, 0xf8, 0x03, // mov dx, 0x3f8
          0xf3, 0x6e, // rep outsb   (in the middle of its translation block)
          0xf4); // hlt
      t.longMode(0x1000);
      assertEquals(new VcpuExit.IoOutString(0x3f8, 1, 100, text), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x3064, r.rsi());
      assertEquals(0, r.rcx());
      assertEquals(0x1015, r.rip());
    }
  }

  @Test
  void repInswOfThreeIsOneExitAndTheGuestSeesTheDataAtEsDi() {
    try (TestVm t = new TestVm()) {
      // Real mode, CS = 0x100 (base 0x1000), code at CS:0x100 = linear 0x1100.
      t.load(
          0x1100, 0xb8, 0x00, 0x02, // mov ax, 0x200
          0x8e, 0xc0, // mov es, ax   (ES base 0x2000)
          0xbf, 0x10, 0x00, // mov di, 0x10
          0xb9, 0x03, 0x00, // mov cx, 3
          0xba, 0x60, 0x00, // mov dx, 0x60
          0xf3, 0x6d, // rep insw
          0xf4); // hlt
      t.realMode(0x100);
      t.vcpu.setSregs(t.vcpu.getSregs().withCs(KvmSegment.realMode(0x100, true)));
      VcpuExit.IoInString in = assertInstanceOf(VcpuExit.IoInString.class, t.vcpu.run());
      assertEquals(0x60, in.port());
      assertEquals(2, in.size());
      assertEquals(3, in.count());
      for (int i = 0; i < 3; i++) {
        in.setElement(i, 0x1111L * (i + 1));
      }
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertArrayEquals(
          new byte[] {0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0}, bytes(t.ram, 0x2010, 7));
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x16, r.rdi() & 0xffff);
      assertEquals(0, r.rcx() & 0xffff);
    }
  }

  @Test
  void withDfSetInsFillsDownwardsAndOutsReadsDownwards() {
    try (TestVm t = new TestVm()) {
      MemorySegment.copy(new byte[] {1, 2, 3, 4}, 0, t.ram, ValueLayout.JAVA_BYTE, 0x3000, 4);
      t.load(
          0x1000, 0xfd, // std
          0x48, 0xc7, 0xc7, 0x13, 0x40, 0x00, 0x00, // mov rdi, 0x4013
          0x48, 0xc7, 0xc1, 0x04, 0x00, 0x00, 0x00, // mov rcx, 4
          0x66, 0xba, 0x60, 0x00, // mov dx, 0x60
          0xf3, 0x6c, // rep insb
          0x48, 0xc7, 0xc6, 0x03, 0x30, 0x00, 0x00, // mov rsi, 0x3003
          0x48, 0xc7, 0xc1, 0x04, 0x00, 0x00, 0x00, // mov rcx, 4
          0xf3, 0x6e, // rep outsb
          0xf4); // hlt
      t.longMode(0x1000);
      VcpuExit.IoInString in = assertInstanceOf(VcpuExit.IoInString.class, t.vcpu.run());
      assertEquals(4, in.count());
      for (int i = 0; i < 4; i++) {
        in.setElement(i, 0xa0 + i);
      }
      assertEquals(new VcpuExit.IoOutString(0x60, 1, 4, new byte[] {4, 3, 2, 1}), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertArrayEquals(
          new byte[] {(byte) 0xa3, (byte) 0xa2, (byte) 0xa1, (byte) 0xa0}, bytes(t.ram, 0x4010, 4));
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x400f, r.rdi());
      assertEquals(0x2fff, r.rsi());
    }
  }

  @Test
  void aRepeatLongerThanAPageIsSeveralExits() {
    try (TestVm t = new TestVm()) {
      byte[] words = pattern(6000);
      MemorySegment.copy(words, 0, t.ram, ValueLayout.JAVA_BYTE, 0x10000, 6000);
      t.load(
          0x1000, 0x48, 0xc7, 0xc6, 0x00, 0x00, 0x01, 0x00, // mov rsi, 0x10000
          0x48, 0xc7, 0xc1, 0xb8, 0x0b, 0x00, 0x00, // mov rcx, 3000
          0x66, 0xba, 0x00, 0x05, // mov dx, 0x500
          0xf3, 0x66, 0x6f, // rep outsw
          0xf4); // hlt
      t.longMode(0x1000);
      VcpuExit.IoOutString first = assertInstanceOf(VcpuExit.IoOutString.class, t.vcpu.run());
      assertEquals(2048, first.count());
      assertArrayEquals(java.util.Arrays.copyOfRange(words, 0, 4096), first.data());
      assertEquals(3000 - 2048, t.vcpu.getRegs().rcx(), "RCX counts the elements left");
      VcpuExit.IoOutString rest = assertInstanceOf(VcpuExit.IoOutString.class, t.vcpu.run());
      assertEquals(952, rest.count());
      assertArrayEquals(java.util.Arrays.copyOfRange(words, 4096, 6000), rest.data());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x10000 + 6000, t.vcpu.getRegs().rsi());
    }
  }

  @Test
  void aSegmentOverrideAndSixteenBitAddressesAreHonoured() {
    try (TestVm t = new TestVm()) {
      MemorySegment.copy(new byte[] {9, 9, 9}, 0, t.ram, ValueLayout.JAVA_BYTE, 0x3005, 3);
      MemorySegment.copy(new byte[] {5, 6, 7}, 0, t.ram, ValueLayout.JAVA_BYTE, 0x4005, 3);
      t.load(
          0x1000, 0xb8, 0x00, 0x03, // mov ax, 0x300
          0x8e, 0xd8, // mov ds, ax  (base 0x3000)
          0xb8, 0x00, 0x04, // mov ax, 0x400
          0x8e, 0xc0, // mov es, ax  (base 0x4000)
          0xbe, 0x05, 0x00, // mov si, 5
          0xb9, 0x03, 0x00, // mov cx, 3
          0xba, 0xf8, 0x03, // mov dx, 0x3f8
          0x26, 0xf3, 0x6e, // rep outsb es:[si]
          0xf4); // hlt
      t.realMode(0x1000);
      assertEquals(new VcpuExit.IoOutString(0x3f8, 1, 3, new byte[] {5, 6, 7}), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(8, t.vcpu.getRegs().rsi() & 0xffff);
    }
  }

  @Test
  void anIoregionPortGetsOneCommandPerElementAndTheVmmNoExit() throws Exception {
    java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
    try (TestVm t = new TestVm();
        PipeDevice d =
            PipeDevice.answering(
                c -> c.op() == IoregionCommand.Op.READ ? 0x40L + reads.getAndIncrement() : 0L)) {
      t.vm.setIoregion(
          new KvmIoregion(0xe0, 4, 5, d.kernelReadFd(), d.kernelWriteFd(), KVM_IOREGION_PIO));
      MemorySegment.copy(new byte[] {1, 2, 3}, 0, t.ram, ValueLayout.JAVA_BYTE, 0x3000, 3);
      t.load(
          0x1000, 0x48, 0xc7, 0xc6, 0x00, 0x30, 0x00, 0x00, // mov rsi, 0x3000
          0x48, 0xc7, 0xc1, 0x03, 0x00, 0x00, 0x00, // mov rcx, 3
          0x66, 0xba, 0xe0, 0x00, // mov dx, 0xe0
          0xf3, 0x6e, // rep outsb
          0x48, 0xc7, 0xc7, 0x00, 0x40, 0x00, 0x00, // mov rdi, 0x4000
          0x48, 0xc7, 0xc1, 0x02, 0x00, 0x00, 0x00, // mov rcx, 2
          0xf3, 0x6c, // rep insb
          0xf4); // hlt
      t.longMode(0x1000, new KvmDtable(0, 0));
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      List<IoregionCommand> got = d.received;
      assertEquals(5, got.size());
      for (int i = 0; i < 3; i++) {
        assertEquals(IoregionCommand.write(5, 0, 1, i + 1, true), got.get(i));
      }
      assertEquals(IoregionCommand.read(5, 0, 1), got.get(3));
      assertArrayEquals(new byte[] {0x40, 0x41}, bytes(t.ram, 0x4000, 2));
    }
  }
}
