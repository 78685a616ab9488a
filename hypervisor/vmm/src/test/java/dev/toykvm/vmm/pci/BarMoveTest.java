package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.toykvm.ioregionfd.IoregionHandler;
import dev.toykvm.ioregionfd.IoregionServer;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A guest moves a device's I/O BAR through 0xcf8/0xcfc on the real kernel side: the device's
 * ioregion moves with it, so the guest's accesses reach the device process's pipes at the new port
 * and exit to the VMM at the old one; with I/O decoding off, at neither.
 */
@Timeout(60)
class BarMoveTest {
  private static final int DEVICE = 3;
  private static final int CODE = 0x1000;
  private static final int RESULTS = 0x500;

  private final ByteArrayOutputStream code = new ByteArrayOutputStream();

  private void emit(int... bytes) {
    for (int b : bytes) {
      code.write(b);
    }
  }

  private void emit32(long v) {
    emit((int) v & 0xff, (int) (v >> 8) & 0xff, (int) (v >> 16) & 0xff, (int) (v >> 24) & 0xff);
  }

  /** Config write of a dword through mechanism #1. */
  private void config(int register, long value) {
    emit(0xba, 0xf8, 0x0c); // mov dx, 0xcf8
    emit(0x66, 0xb8); // mov eax, address
    emit32(0x8000_0000L | DEVICE << 11 | register);
    emit(0x66, 0xef); // out dx, eax
    emit(0xba, 0xfc, 0x0c); // mov dx, 0xcfc
    emit(0x66, 0xb8); // mov eax, value
    emit32(value);
    emit(0x66, 0xef); // out dx, eax
  }

  /** in al, port; mov [RESULTS + slot], al */
  private void inb(int port, int slot) {
    emit(0xba, port & 0xff, port >> 8); // mov dx, port
    emit(0xec); // in al, dx
    emit(0xa2, RESULTS + slot & 0xff, RESULTS + slot >> 8); // mov [RESULTS + slot], al
  }

  @Test
  void movingABarMovesItsIoregion() throws Exception {
    config(0x10, 0x1000); // BAR0 at port 0x1000
    config(0x04, PciDevice.COMMAND_IO);
    inb(0x1000, 0); // the device
    inb(0x2000, 1); // nothing: an exit
    config(0x10, 0x2000); // move it
    inb(0x1000, 2); // nothing: an exit
    inb(0x2000, 3); // the device
    config(0x04, 0); // decoding off
    inb(0x2000, 4); // nothing: an exit
    emit(0xf4); // hlt

    List<String> commands = Collections.synchronizedList(new ArrayList<>());
    IoregionHandler device =
        new IoregionHandler() {
          @Override
          public long read(long userData, long offset, int size) {
            commands.add("read user_data=0x%x offset=%d size=%d".formatted(userData, offset, size));
            return 0x5a;
          }

          @Override
          public void write(long userData, long offset, int size, long value) {
            commands.add("write");
          }
        };
    try (Arena arena = Arena.ofShared();
        Pipe cmd = Fds.pipe2();
        Pipe resp = Fds.pipe2();
        Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      Thread server =
          Thread.ofPlatform()
              .start(
                  () ->
                      new IoregionServer("fake", device, cmd.readFd(), resp.writeFd(), System.err)
                          .serve());
      MemorySegment ram = arena.allocate(0x10000, 4096);
      MemorySegment.copy(code.toByteArray(), 0, ram, ValueLayout.JAVA_BYTE, CODE, code.size());
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, ram.byteSize(), ram));
      PciDevice fake = new PciDevice("fake", PciDeviceTest.ID, false, new Bar[] {Bar.io(16)}, 1);
      IoregionBarRoutes routes =
          new IoregionBarRoutes(vm, "fake", resp.readFd(), cmd.writeFd(), 0x7, false);
      fake.listen(routes);
      PciBus bus = new PciBus();
      bus.add(DEVICE, 0, fake);
      PciConfigIo io = new PciConfigIo(bus, () -> {});

      List<Integer> exitPorts = new ArrayList<>();
      try (VcpuFd vcpu = vm.createVcpu(0)) {
        KvmSregs s = vcpu.getSregs();
        vcpu.setSregs(
            s.withCs(KvmSegment.realMode(0, true))
                .withDataSegments(KvmSegment.realMode(0, false))
                .withTables(new KvmDtable(0, 0xffff), new KvmDtable(0, 0x3ff)));
        vcpu.setRegs(vcpu.getRegs().withRip(CODE).withRsp(0x8000).withRflags(2));
        run:
        while (true) {
          VcpuExit exit = vcpu.run();
          switch (exit) {
            case VcpuExit.IoOut out when out.port() >= PciConfigIo.PORT ->
                io.write(out.port() - PciConfigIo.PORT, out.size(), out.data());
            case VcpuExit.IoIn in -> {
              exitPorts.add(in.port());
              in.setData(0xee);
            }
            case VcpuExit.Hlt h -> {
              break run;
            }
            default -> fail("unexpected exit " + exit);
          }
        }
      }
      byte[] results = new byte[5];
      MemorySegment.copy(ram, ValueLayout.JAVA_BYTE, RESULTS, results, 0, 5);
      assertEquals(List.of(0x5a, 0xee, 0xee, 0x5a, 0xee), toInts(results));
      assertEquals(List.of(0x2000, 0x1000, 0x2000), exitPorts);
      assertEquals(
          List.of("read user_data=0x7 offset=0 size=1", "read user_data=0x7 offset=0 size=1"),
          commands);
      assertEquals(0, routes.registered().size(), "decoding off: no region left");
      cmd.closeWriteEnd();
      server.join();
    }
  }

  @Test
  void aPlaceTheKernelSideRefusesDecodesNothingUntilTheBarMoves() throws Exception {
    try (Pipe cmd = Fds.pipe2();
        Pipe resp = Fds.pipe2();
        Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      // Another device's ioregion at ports 0x3000-0x300f.
      vm.setIoregion(
          new dev.toykvm.kvm.KvmIoregion(
              0x3000,
              16,
              1,
              resp.readFd(),
              cmd.writeFd(),
              dev.toykvm.kvm.KvmConstants.KVM_IOREGION_PIO));
      PciDevice fake = new PciDevice("fake", PciDeviceTest.ID, false, new Bar[] {Bar.io(16)}, 1);
      IoregionBarRoutes routes =
          new IoregionBarRoutes(vm, "fake", resp.readFd(), cmd.writeFd(), 0x7, false);
      fake.listen(routes);
      fake.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_IO);
      fake.writeConfig(0x10, 4, 0x3008); // over the other region: EEXIST, logged
      assertEquals(0, routes.registered().size());
      fake.writeConfig(0x10, 4, 0x4000);
      assertEquals(0x4000, routes.registered().get(0).guestPaddr());
      assertEquals(0x7, routes.registered().get(0).userData());
      fake.writeConfig(0x10, 4, 0x3000); // refused again: the region at 0x4000 is gone all the same
      assertEquals(0, routes.registered().size());
      // 0x4000 is free again: a region of exactly that place can be assigned.
      vm.setIoregion(
          new dev.toykvm.kvm.KvmIoregion(
              0x4000,
              16,
              2,
              resp.readFd(),
              cmd.writeFd(),
              dev.toykvm.kvm.KvmConstants.KVM_IOREGION_PIO));
    }
  }

  private static List<Integer> toInts(byte[] b) {
    List<Integer> out = new ArrayList<>();
    for (byte x : b) {
      out.add(x & 0xff);
    }
    return out;
  }
}
