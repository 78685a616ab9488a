package dev.toykvm.devices;

import static dev.toykvm.devices.Uart16550.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The receive FIFO as the device process feeds it (no more than its send window: RTS on and room
 * left).
 */
class Uart16550FifoPropertiesTest {

  /**
   * Whatever the interleaving of arrivals (each at most the room left, as the device process reads
   * its input) and of the guest's reads (LSR.DR then RBR, as a driver does), bytes come out in the
   * order they went in, none lost and none made up, and no overrun is ever reported.
   */
  @Property(tries = 300)
  void bytesInAreBytesOutWhateverTheInterleaving(
      @ForAll @Size(max = 200) List<Byte> input,
      @ForAll @Size(min = 1, max = 50) List<@IntRange(min = 1, max = 20) Integer> arrivals,
      @ForAll @Size(min = 1, max = 50) List<@IntRange(min = 1, max = 20) Integer> reads,
      @ForAll boolean fifo) {
    Uart16550 uart = new Uart16550(new ByteArrayOutputStream());
    uart.write(MCR, 1, MCR_RTS);
    if (fifo) {
      uart.write(IIR_FCR, 1, FCR_ENABLE | FCR_TRIGGER_8);
    }
    List<Byte> out = new ArrayList<>();
    int fed = 0;
    for (int round = 0; out.size() < input.size(); round++) {
      int chunk =
          Math.min(
              Math.min(arrivals.get(round % arrivals.size()), uart.sendWindow()),
              input.size() - fed);
      byte[] bytes = new byte[chunk];
      for (int i = 0; i < chunk; i++) {
        bytes[i] = input.get(fed++);
      }
      uart.receive(bytes);
      for (int i = 0; i < reads.get(round % reads.size()); i++) {
        int lsr = (int) uart.read(LSR, 1);
        assertEquals(0, lsr & LSR_OE, "an overrun");
        if ((lsr & LSR_DR) == 0) {
          break;
        }
        out.add((byte) uart.read(RBR_THR_DLL, 1));
      }
    }
    assertEquals(input, out);
  }
}
