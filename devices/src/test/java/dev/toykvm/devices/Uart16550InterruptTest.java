package dev.toykvm.devices;

import static dev.toykvm.devices.Uart16550.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The 16550's interrupt rules (PC16550D, Table IV) and its IRQ output, on a fake clock. */
class Uart16550InterruptTest {
  /** Four character times at the reset divisor (12: 9600 baud) and 8N1: 40 bits of 104.17 us. */
  private static final long FOUR_CHARS_9600_8N1 = 4_166_666;

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<Boolean> levels = new ArrayList<>();
  private final List<Integer> lines = new ArrayList<>();
  private final Uart16550 uart =
      new Uart16550(
          new ByteArrayOutputStream(),
          (line, level) -> {
            lines.add(line);
            levels.add(level);
          },
          4,
          now::get);

  private int in(int reg) {
    return (int) uart.read(reg, 1);
  }

  private void out(int reg, int value) {
    uart.write(reg, 1, value);
  }

  @BeforeEach
  void lineFormat() {
    out(LCR, 0x03); // 8N1
  }

  @Test
  void settingEtbeiWithThrEmptyRaisesTheLineOnIrq4() {
    out(MCR, MCR_OUT2);
    out(IER_DLM, IER_THRE);
    assertEquals(List.of(true), levels);
    assertEquals(List.of(4), lines);
    assertEquals(IIR_THRE, in(IIR_FCR));
  }

  @Test
  void readingIirWhileItReportsThreClearsIt() {
    out(MCR, MCR_OUT2);
    out(IER_DLM, IER_THRE);
    assertEquals(IIR_THRE, in(IIR_FCR));
    assertEquals(List.of(true, false), levels);
    assertEquals(IIR_NO_INTERRUPT, in(IIR_FCR));
  }

  @Test
  void writingThrClearsThreAndTheEmptyingThrRaisesItAgain() {
    out(MCR, MCR_OUT2);
    out(IER_DLM, IER_THRE);
    out(RBR_THR_DLL, 'x');
    assertEquals(List.of(true, false, true), levels, "the line fell at the write and rose again");
    assertEquals(IIR_THRE, in(IIR_FCR));
  }

  @Test
  void writingThrWithThreAcknowledgedRaisesItOnce() {
    out(MCR, MCR_OUT2);
    out(IER_DLM, IER_THRE);
    in(IIR_FCR);
    out(RBR_THR_DLL, 'x');
    assertEquals(List.of(true, false, true), levels);
  }

  @Test
  void clearingEtbeiLowersTheLineAndSettingItAgainRaisesIt() {
    out(MCR, MCR_OUT2);
    out(IER_DLM, IER_THRE);
    out(IER_DLM, 0);
    out(IER_DLM, IER_THRE);
    assertEquals(List.of(true, false, true), levels);
  }

  @Test
  void aThreNotShownInIirIsNotAcknowledgedByReadingIt() {
    out(IER_DLM, IER_RDA | IER_THRE);
    uart.receive((byte) 'k');
    assertEquals(IIR_RDA, in(IIR_FCR));
    assertEquals('k', in(RBR_THR_DLL));
    assertEquals(IIR_THRE, in(IIR_FCR), "THRE was still pending behind the received data");
  }

  @Test
  void lineStatusComesFirstAndReadingLsrClearsIt() {
    out(IER_DLM, IER_RLS | IER_RDA | IER_THRE | IER_MS);
    uart.receive((byte) 1, (byte) 2); // FIFOs off: the second overruns the first
    assertEquals(IIR_RLS, in(IIR_FCR));
    assertEquals(LSR_OE, in(LSR) & LSR_OE);
    assertEquals(IIR_RDA, in(IIR_FCR));
  }

  @Test
  void overrunWithoutElsiRaisesNoLineStatusInterrupt() {
    out(IER_DLM, IER_RDA);
    uart.receive((byte) 1, (byte) 2);
    assertEquals(IIR_RDA, in(IIR_FCR));
  }

  @Test
  void receivedDataFollowsTheTriggerLevel() {
    out(IIR_FCR, FCR_ENABLE | FCR_TRIGGER_4);
    out(IER_DLM, IER_RDA);
    out(MCR, MCR_OUT2);
    uart.receive((byte) 1, (byte) 2, (byte) 3);
    assertEquals(IIR_FIFO_ENABLED | IIR_NO_INTERRUPT, in(IIR_FCR));
    uart.receive((byte) 4);
    assertEquals(IIR_FIFO_ENABLED | IIR_RDA, in(IIR_FCR));
    assertTrue(uart.interruptPending());
    in(RBR_THR_DLL);
    assertEquals(IIR_FIFO_ENABLED | IIR_NO_INTERRUPT, in(IIR_FCR), "below the trigger level");
    assertEquals(List.of(true, false), levels);
  }

  @Test
  void eachTriggerLevel() {
    int[][] levelsByBits = {
      {FCR_TRIGGER_1, 1}, {FCR_TRIGGER_4, 4}, {FCR_TRIGGER_8, 8}, {FCR_TRIGGER_14, 14}
    };
    for (int[] t : levelsByBits) {
      out(IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX | t[0]);
      out(IER_DLM, IER_RDA);
      for (int i = 1; i <= t[1]; i++) {
        assertEquals(IIR_FIFO_ENABLED | IIR_NO_INTERRUPT, in(IIR_FCR), "trigger " + t[1]);
        uart.receive((byte) i);
      }
      assertEquals(IIR_FIFO_ENABLED | IIR_RDA, in(IIR_FCR), "trigger " + t[1]);
    }
  }

  @Test
  void characterTimeoutAfterFourCharacterTimesWithoutActivity() {
    out(IIR_FCR, FCR_ENABLE | FCR_TRIGGER_14);
    out(IER_DLM, IER_RDA);
    out(MCR, MCR_OUT2);
    assertEquals(OptionalLong.empty(), uart.nextDeadline());
    long t0 = now.get();
    uart.receive((byte) 'a', (byte) 'b');
    assertEquals(OptionalLong.of(t0 + FOUR_CHARS_9600_8N1), uart.nextDeadline());
    now.addAndGet(FOUR_CHARS_9600_8N1 - 1);
    uart.tick();
    assertEquals(IIR_FIFO_ENABLED | IIR_NO_INTERRUPT, in(IIR_FCR));
    now.addAndGet(1);
    uart.tick();
    assertEquals(List.of(true), levels, "the tick at the deadline raised the line");
    assertEquals(IIR_FIFO_ENABLED | IIR_TIMEOUT, in(IIR_FCR));
    assertEquals(OptionalLong.empty(), uart.nextDeadline(), "fired: nothing more is due");
    assertEquals('a', in(RBR_THR_DLL));
    assertEquals(List.of(true, false), levels, "reading RBR cleared the timeout");
    assertEquals(OptionalLong.of(now.get() + FOUR_CHARS_9600_8N1), uart.nextDeadline());
  }

  @Test
  void eachByteReceivedRestartsTheTimeout() {
    out(IIR_FCR, FCR_ENABLE | FCR_TRIGGER_14);
    out(IER_DLM, IER_RDA);
    uart.receive((byte) 1);
    now.addAndGet(FOUR_CHARS_9600_8N1 / 2);
    uart.receive((byte) 2);
    now.addAndGet(FOUR_CHARS_9600_8N1 / 2 + 10);
    assertEquals(IIR_FIFO_ENABLED | IIR_NO_INTERRUPT, in(IIR_FCR));
  }

  @Test
  void theTimeoutFollowsTheDivisorAndFrameFormat() {
    out(IIR_FCR, FCR_ENABLE | FCR_TRIGGER_14);
    out(LCR, LCR_DLAB | 0x07); // 8 data bits, 2 stop bits: 11 bits a character
    out(RBR_THR_DLL, 1); // 115200 baud
    out(LCR, 0x07);
    long t0 = now.get();
    uart.receive((byte) 1);
    assertEquals(OptionalLong.of(t0 + 4L * 11 * 1_000_000_000L / 115_200), uart.nextDeadline());
  }

  @Test
  void noTimeoutWithFifosOff() {
    out(IER_DLM, IER_RDA);
    uart.receive((byte) 1);
    assertEquals(OptionalLong.empty(), uart.nextDeadline());
    assertEquals(IIR_RDA, in(IIR_FCR));
  }

  @Test
  void modemStatusInterruptUntilMsrIsRead() {
    out(IER_DLM, IER_MS);
    assertEquals(IIR_NO_INTERRUPT, in(IIR_FCR));
    out(MCR, MCR_LOOP); // CTS, DSR, DCD fall
    assertEquals(IIR_MS, in(IIR_FCR));
    assertEquals(MSR_DCTS | MSR_DDSR | MSR_DDCD, in(MSR));
    assertEquals(IIR_NO_INTERRUPT, in(IIR_FCR));
    out(MCR, MCR_LOOP | MCR_OUT1); // RI rises: no delta
    assertEquals(IIR_NO_INTERRUPT, in(IIR_FCR));
    out(MCR, MCR_LOOP); // RI falls: trailing edge
    assertEquals(MSR_TERI, in(MSR) & 0x0f);
  }

  @Test
  void priorityIsLineStatusDataThreModem() {
    out(IER_DLM, IER_RLS | IER_RDA | IER_THRE | IER_MS);
    out(MCR, MCR_LOOP); // a modem status change pending
    assertEquals(IIR_THRE, in(IIR_FCR), "THR empty before modem status");
    assertEquals(IIR_MS, in(IIR_FCR), "then modem status");
    out(RBR_THR_DLL, 1); // loopback: into the receiver, and THRE again
    assertEquals(IIR_RDA, in(IIR_FCR), "received data first");
    out(RBR_THR_DLL, 2); // overrun
    assertEquals(IIR_RLS, in(IIR_FCR), "line status first of all");
  }

  @Test
  void out2GatesTheLineAndLoopbackKeepsItOff() {
    out(IER_DLM, IER_THRE);
    assertFalse(uart.interruptPending());
    assertEquals(List.of(), levels);
    out(MCR, MCR_OUT2);
    assertEquals(List.of(true), levels);
    out(MCR, MCR_OUT2 | MCR_LOOP);
    assertEquals(List.of(true, false), levels, "the chip forces OUT2 off in loopback");
    assertEquals(IIR_THRE, in(IIR_FCR), "the source is still there");
    out(MCR, 0);
    assertEquals(List.of(true, false), levels);
  }

  @Test
  void changingFcrEnableEmptiesTheReceiverAndOtherBitsNeedIt() {
    out(IIR_FCR, FCR_ENABLE);
    uart.receive((byte) 1, (byte) 2);
    out(IIR_FCR, 0);
    assertEquals(0, in(LSR) & LSR_DR);
    assertEquals(1, uart.receiveSpace());
    out(IIR_FCR, FCR_TRIGGER_14); // FCR0 = 0: not programmed
    out(IIR_FCR, FCR_ENABLE);
    out(IER_DLM, IER_RDA);
    uart.receive((byte) 1);
    assertEquals(IIR_FIFO_ENABLED | IIR_RDA, in(IIR_FCR), "the trigger level is still 1");
  }

  @Test
  void clearingTheReceiveFifoDropsDataAndItsInterrupt() {
    out(IIR_FCR, FCR_ENABLE);
    out(IER_DLM, IER_RDA);
    out(MCR, MCR_OUT2);
    uart.receive((byte) 1);
    out(IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX);
    assertEquals(List.of(true, false), levels);
    assertEquals(0, in(LSR) & LSR_DR);
    assertEquals(16, uart.receiveSpace());
  }
}
