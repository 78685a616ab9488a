package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.TestDevice;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A device process's irqfds: made at start, passed to the device, what the VMM would register,
 * closed with the device. The test plays the kernel side (reads the irqfd, writes the resamplefd).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeviceIrqfdsTest {

  @Test
  void eventfdsForEachLineAreMadeAndClosedWithTheDevice() {
    DeviceSpec spec = DeviceSpec.parse("testdev,pio=0x1234,irq=5+6,edge-irq=24");
    List<DeviceIrqfds.InterruptFd> fds;
    try (DeviceIrqfds irqfds = DeviceIrqfds.create(spec)) {
      fds = irqfds.interruptFds();
      assertEquals(List.of(5, 6, 24), fds.stream().map(DeviceIrqfds.InterruptFd::gsi).toList());
      assertEquals(
          List.of(dev.toykvm.kvm.KvmConstants.KVM_IRQFD_FLAG_RESAMPLE, 2, 0),
          fds.stream().map(DeviceIrqfds.InterruptFd::flags).toList());
      for (DeviceIrqfds.InterruptFd f : fds) {
        assertTrue(Eventfd.isEventfd(f.fd()));
        assertEquals(f.gsi() != 24, Eventfd.isEventfd(f.resampleFd()));
      }
      assertEquals("5:7:8", fds.getFirst().argument(7, 8));
      assertEquals("24:9", fds.getLast().argument(9, -1));
    }
    for (DeviceIrqfds.InterruptFd f : fds) {
      assertFalse(Fds.isOpen(f.fd()), "closed with the device");
    }
  }

  /** The guest's write: what ExitHandler does with an IoOut on a bus. */
  private static void out(Bus bus, long port, int size, long value) {
    Bus.Match m = bus.lookup(port).orElseThrow();
    m.device().write(m.offset(), size, value);
  }

  @Test
  void aDeviceProcessRaisesItsInterruptsOnTheEventfdsTheVmmWouldRegister() {
    Bus pio = new Bus("pio");
    Bus mmio = new Bus("mmio");
    DeviceManager devices =
        new DeviceManager(
            new ScriptedKvm().createVm(),
            pio,
            mmio,
            new ByteArrayOutputStream(),
            Duration.ofSeconds(30),
            false); // no KVM_IRQFD: this test plays the kernel side on the eventfds itself
    List<DeviceIrqfds.InterruptFd> fds;
    try {
      devices.attachAll(
          List.of(
              DeviceSpec.parse("uart,pio=0x3f8,route=vmm"),
              DeviceSpec.parse("testdev,pio=0x1234,size=0x60,route=vmm,irq=5,edge-irq=24")));
      fds = devices.interruptFds();
      assertEquals(List.of(4, 5, 24), fds.stream().map(DeviceIrqfds.InterruptFd::gsi).toList());
      DeviceIrqfds.InterruptFd level = fds.get(1);
      DeviceIrqfds.InterruptFd edge = fds.get(2);

      out(pio, 0x1234 + TestDevice.IRQ_RAISE, 8, 5);
      assertTrue(Poll.poll(level.fd(), 30_000).readable());
      assertEquals(1, Eventfd.drain(level.fd()));
      Eventfd.signal(level.resampleFd()); // the guest's EOI: still raised, so asserted again
      assertTrue(Poll.poll(level.fd(), 30_000).readable());
      assertEquals(1, Eventfd.drain(level.fd()));

      out(pio, 0x1234 + TestDevice.IRQ_PULSE, 8, 24);
      assertEquals(1, Eventfd.drain(edge.fd()), "the write completed after the irqfd's");

      // COM1 on IRQ 4: OUT2 and ETBEI raise the THR-empty interrupt.
      DeviceIrqfds.InterruptFd com1 = fds.getFirst();
      out(pio, 0x3f8 + 4, 1, 0x08);
      out(pio, 0x3f8 + 1, 1, 0x02);
      assertEquals(1, Eventfd.drain(com1.fd()));
    } finally {
      devices.close();
    }
    for (DeviceIrqfds.InterruptFd f : fds) {
      assertFalse(Fds.isOpen(f.fd()), "closed with the device");
    }
  }
}
