package dev.toykvm.devices;

import static dev.toykvm.devices.Uart16550.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The IRQ output as a level: whatever the guest and the line do, the line tells the truth. */
class Uart16550IrqPropertiesTest {

  /**
   * After every register access, arrival and tick, the last level given to the {@link IrqLine} is
   * {@link Uart16550#interruptPending()}, and the line only ever toggles (never two raises or two
   * lowers in a row): what an irqfd with resample relies on.
   */
  @Property(tries = 300)
  void theLineAlwaysFollowsThePendingInterrupt(
      @ForAll @Size(max = 80) List<@IntRange(min = 0, max = 16383) Integer> ops,
      @ForAll boolean driverSetUp) {
    AtomicLong now = new AtomicLong();
    List<Boolean> levels = new ArrayList<>();
    Uart16550 uart =
        new Uart16550(new ByteArrayOutputStream(), (line, level) -> levels.add(level), 4, now::get);
    if (driverSetUp) { // as a driver leaves it: FIFOs on at 14, all sources on, OUT2
      uart.write(IIR_FCR, 1, FCR_ENABLE | FCR_TRIGGER_14);
      uart.write(IER_DLM, 1, 0x0f);
      uart.write(MCR, 1, MCR_OUT2 | MCR_RTS | MCR_DTR);
    }
    for (int op : ops) {
      int arg = op >>> 4;
      switch (op & 15) {
        case 0, 1 -> uart.read(op & 7, 1); // any register, IIR and LSR and RBR included
        case 2 -> uart.read(IIR_FCR, 1);
        case 3 -> uart.write(RBR_THR_DLL, 1, arg);
        case 4 -> uart.write(IER_DLM, 1, arg & 0x0f);
        case 5 -> uart.write(MCR, 1, arg & 0x1f);
        case 6 -> {
          if (!driverSetUp) {
            uart.write(IIR_FCR, 1, arg & 0xc7);
          }
        }
        case 7 -> uart.write(LCR, 1, arg & 0x7f);
        case 8, 9 -> uart.receive(new byte[arg & 7]);
        case 10 -> uart.read(RBR_THR_DLL, 1);
        case 11 -> uart.read(LSR, 1);
        case 12 -> uart.read(MSR, 1);
        default -> {
          now.addAndGet(arg * 100_000L);
          uart.tick();
        }
      }
      boolean last = !levels.isEmpty() && levels.getLast();
      assertEquals(uart.interruptPending(), last, "after op " + op);
    }
    for (int i = 1; i < levels.size(); i++) {
      assertNotEquals(levels.get(i - 1), levels.get(i), "two equal levels in a row: " + levels);
    }
    if (!levels.isEmpty()) {
      assertEquals(true, levels.getFirst(), "the line starts low, so its first change is a rise");
    }
  }
}
