package dev.toykvm.vmm.pci;

import static dev.toykvm.kvm.KvmConstants.X86_CR0_PE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The whole VMM path of MSI-X with a 32-bit guest on the real kernel side: {@link PciFirmwareSetup}
 * places the function's MSI-X BAR (at 0xe0000000), the guest writes the table entry through MMIO
 * (exits to {@link MsixTable} on the VMM's bus), enables MSI-X through 0xcf8/0xcfc, and takes
 * vector 0x61 when the test writes the vector's eventfd as a device process would; masked, it reads
 * the pending bit in the PBA, then unmasks and takes the held message; the same with the function
 * mask. Ports 0x82-0x86 are the guest's reports; 0x80 and 0x81 its handler's (entered, EOI sent).
 */
@Timeout(60)
class MsixGuestTest {
  private static final int SLOT = 3;
  private static final int MAIN = 0x2000;
  private static final int HANDLER = 0x2800;
  private static final long IDT = 0x3000;
  private static final long GDT = 0x4000;
  private static final long TABLE = PciFirmwareSetup.MEMORY_BASE;
  private static final long PBA = TABLE + MsixTable.PBA_OFFSET;
  private static final int CONFIG_MSIX = 0x8000_0000 | SLOT << 11 | 0x40; // its first capability
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));

  private final List<Integer> code = new ArrayList<>();

  private void emit(int... bytes) {
    for (int b : bytes) {
      code.add(b & 0xff);
    }
  }

  private void emit32(long v) {
    for (int i = 0; i < 4; i++) {
      code.add((int) (v >>> (8 * i)) & 0xff);
    }
  }

  /** {@code mov dword [address], value}. */
  private void mov(long address, long value) {
    emit(0xc7, 0x05);
    emit32(address);
    emit32(value);
  }

  /** {@code out port, al}. */
  private void report(int port) {
    emit(0xe6, port);
  }

  /** The PBA's first dword: {@code mov eax, [PBA]; out 0x84, al}. */
  private void reportPba() {
    emit(0xa1);
    emit32(PBA);
    report(0x84);
  }

  /** The MSI-X capability's first dword: message control in the upper half. */
  private void msixControl(int control) {
    emit(0x66, 0xba, 0xf8, 0x0c); // mov dx, 0xcf8
    emit(0xb8);
    emit32(CONFIG_MSIX); // mov eax, CONFIG_ADDRESS
    emit(0xef); // out dx, eax
    emit(0x66, 0xba, 0xfc, 0x0c); // mov dx, 0xcfc
    emit(0xb8);
    emit32((long) control << 16); // mov eax, control << 16
    emit(0xef); // out dx, eax
  }

  private void waitForInterrupt() {
    emit(0xfb, 0xf4, 0xfa); // sti; hlt; cli
  }

  @Test
  void aGuestProgramsTheTableTakesItsVectorAndSeesPendingBits() {
    mov(0xfee000f0L, 0x1ff); // SPIV: software-enabled
    mov(TABLE, 0xfee00000L); // entry 0: address (APIC 0)
    mov(TABLE + 4, 0); // upper address
    mov(TABLE + 8, 0x61); // data: vector 0x61, fixed, edge
    mov(TABLE + 12, 0); // unmask
    msixControl(MsixCapability.CONTROL_ENABLE);
    report(0x82); // ready: the test writes the eventfd
    waitForInterrupt();
    mov(TABLE + 12, 1); // mask entry 0
    report(0x83); // the test writes the eventfd
    reportPba(); // 1
    mov(TABLE + 12, 0); // unmask: the held message arrives
    waitForInterrupt();
    reportPba(); // 0
    msixControl(MsixCapability.CONTROL_ENABLE | MsixCapability.CONTROL_FUNCTION_MASK);
    report(0x85); // the test writes the eventfd
    reportPba(); // 1
    msixControl(MsixCapability.CONTROL_ENABLE);
    waitForInterrupt();
    reportPba(); // 0
    report(0x86); // done

    int eventfd = Eventfd.create();
    try (Arena arena = Arena.ofShared();
        Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      MemorySegment ram = arena.allocate(1 << 20, 4096);
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, ram.byteSize(), ram));
      vm.createIrqchip();
      load(ram, MAIN, code);
      List<Integer> handler = new ArrayList<>(List.of(0xb0, 0x61, 0xe6, 0x80)); // mov al; out 0x80
      handler.addAll(List.of(0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0, 0, 0, 0)); // EOI
      handler.addAll(List.of(0xe6, 0x81, 0xcf)); // out 0x81, al; iretd
      load(ram, HANDLER, handler);
      ram.set(
          ValueLayout.JAVA_LONG,
          IDT + 0x61 * 8L,
          (HANDLER & 0xffff) | 0x08L << 16 | 0x8eL << 40 | ((long) HANDLER >>> 16) << 48);
      ram.set(ValueLayout.JAVA_LONG, GDT + 0x08, 0x00cf_9b00_0000_ffffL);
      ram.set(ValueLayout.JAVA_LONG, GDT + 0x10, 0x00cf_9300_0000_ffffL);

      MsixVectorsTest.MsixFunction function = new MsixVectorsTest.MsixFunction(1);
      MsixTable table = new MsixTable("fake", 1);
      Bus pio = new Bus("pio");
      Bus mmio = new Bus("mmio");
      function.listen(
          new BusBarRoutes("fake", pio, mmio, new BusDevice[] {null, null, null, null, table}));
      PciBus bus = new PciBus();
      IsaBridge isa = new IsaBridge();
      bus.add(1, 0, isa);
      bus.add(SLOT, 0, function);
      PciConfigIo config = new PciConfigIo(bus, () -> {});
      GsiTable gsis = new GsiTable(vm, true);
      try (MsixVectors vectors =
          new MsixVectors(
              "fake", vm, gsis, function, function.capability, table, new int[] {eventfd})) {
        function.vectors = vectors;
        assertEquals(
            "[00:03.0 BAR4 MEMORY32 0xe0000000+0x2000]",
            PciFirmwareSetup.configure(bus, isa).toString());

        try (VcpuFd vcpu = vm.createVcpu(0)) {
          KvmSregs s = vcpu.getSregs();
          vcpu.setSregs(
              s.withCs(KvmSegment.flat32(0x8, true))
                  .withDataSegments(KvmSegment.flat32(0x10, false))
                  .withTables(new KvmDtable(GDT, 3 * 8 - 1), new KvmDtable(IDT, 256 * 8 - 1))
                  .withControl(X86_CR0_PE, 0, 0, 0));
          vcpu.setRegs(vcpu.getRegs().withRip(MAIN).withRsp(0x8000).withRflags(2));
          Guest g = new Guest(vcpu, config, mmio);

          assertEquals(0x82, g.next().port());
          Eventfd.signal(eventfd);
          g.handled();
          assertEquals(0x83, g.next().port());
          Eventfd.signal(eventfd);
          assertEquals(new VcpuExit.IoOut(0x84, 1, 1), g.next(), "PBA: pending");
          g.handled();
          assertEquals(new VcpuExit.IoOut(0x84, 1, 0), g.next(), "PBA: delivered");
          assertEquals(0x85, g.next().port());
          Eventfd.signal(eventfd);
          assertEquals(new VcpuExit.IoOut(0x84, 1, 1), g.next(), "PBA: held by the function mask");
          g.handled();
          assertEquals(new VcpuExit.IoOut(0x84, 1, 0), g.next());
          assertEquals(0x86, g.next().port());
          assertEquals(0, table.oddAccesses());
        }
      }
    } finally {
      Fds.close(eventfd);
    }
  }

  private static void load(MemorySegment ram, long at, List<Integer> bytes) {
    for (int i = 0; i < bytes.size(); i++) {
      ram.set(ValueLayout.JAVA_BYTE, at + i, bytes.get(i).byteValue());
    }
  }

  /** Runs the guest, serving its configuration and MMIO exits, to its next report. */
  private record Guest(VcpuFd vcpu, PciConfigIo config, Bus mmio) {
    VcpuExit.IoOut next() {
      while (true) {
        ScheduledFuture<?> dog = WATCHDOG.schedule(vcpu::kick, 10, TimeUnit.SECONDS);
        VcpuExit exit;
        try {
          exit = vcpu.run();
        } finally {
          dog.cancel(false);
        }
        switch (exit) {
          case VcpuExit.IoOut out when out.port() >= PciConfigIo.PORT ->
              config.write(out.port() - PciConfigIo.PORT, out.size(), out.data());
          case VcpuExit.IoOut out -> {
            return out;
          }
          case VcpuExit.IoIn in when in.port() >= PciConfigIo.PORT ->
              in.setData(config.read(in.port() - PciConfigIo.PORT, in.size()));
          case VcpuExit.MmioWrite w -> {
            Bus.Match m = mmio.lookup(w.address()).orElseThrow();
            m.device().write(m.offset(), w.size(), w.data());
          }
          case VcpuExit.MmioRead r -> {
            Bus.Match m = mmio.lookup(r.address()).orElseThrow();
            r.setData(m.device().read(m.offset(), r.size()));
          }
          default -> fail("unexpected exit " + exit);
        }
      }
    }

    /** The handler of vector 0x61 runs and sends its EOI. */
    void handled() {
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x61), next());
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x61), next());
    }
  }
}
