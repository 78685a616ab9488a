package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.images.TestImage;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Boots firmware images from the reset vector with nothing but the kvm-api: ROM mapped read-only at
 * the top of 4 GiB and aliased below 1 MiB, a serial port answered by hand.
 */
@Timeout(30)
class FirmwareBootTest {

  @Test
  void vcpuStartsInTheResetState() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      VcpuFd vcpu = vm.createVcpu(0);
      KvmRegs r = vcpu.getRegs();
      KvmSregs s = vcpu.getSregs();
      assertEquals(0xfff0, r.rip());
      assertEquals(0xf000, s.cs().selector());
      assertEquals(0xffff_0000L, s.cs().base());
      assertEquals(0xffff, s.cs().limit());
      assertEquals(0x6000_0010L, s.cr0());
      assertEquals(0, s.efer());
    }
  }

  @Test
  void realModeHelloBoots() {
    assertEquals("Hello from real mode\n", boot("real-mode-hello"));
  }

  @Test
  void helloReachesLongMode() {
    assertEquals("Hello from long mode\n", boot("hello"));
  }

  private static String boot(String name) {
    TestImage image = TestImage.load(name);
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm();
        Arena arena = Arena.ofShared()) {
      MemorySegment rom = arena.allocate(0x10000, 4096);
      rom.copyFrom(MemorySegment.ofArray(image.bytes()));
      MemorySegment low = arena.allocate(0xa0000, 4096);
      MemorySegment high = arena.allocate(16 << 20, 4096);
      int ro = KvmConstants.KVM_MEM_READONLY;
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, 0xa0000, low));
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(1, ro, 0xf0000, 0x10000, rom));
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(2, 0, 0x100000, 16 << 20, high));
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(3, ro, 0xffff0000L, 0x10000, rom));
      VcpuFd vcpu = vm.createVcpu(0);
      StringBuilder serial = new StringBuilder();
      for (int i = 0; i < 10_000; i++) {
        switch (vcpu.run()) {
          case VcpuExit.IoOut out when out.port() == 0x3f8 -> serial.append((char) out.data());
          case VcpuExit.IoOut out when out.port() == 0xf4 -> {
            assertEquals(0, out.data());
            return serial.toString();
          }
          case VcpuExit.IoIn in when in.port() == 0x3fd -> in.setData(0x60);
          case VcpuExit exit ->
              throw new AssertionError("unexpected exit " + exit + " after " + serial);
        }
      }
      throw new AssertionError("no debug exit; serial so far: " + serial);
    }
  }
}
