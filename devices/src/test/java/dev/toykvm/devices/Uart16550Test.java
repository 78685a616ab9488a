package dev.toykvm.devices;

import static dev.toykvm.devices.Uart16550.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Uart16550Test {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final Uart16550 uart = new Uart16550(out);

  private int in(int reg) {
    return (int) uart.read(reg, 1);
  }

  private void out(int reg, int value) {
    uart.write(reg, 1, value);
  }

  @Test
  void thrWritesGoToTheSink() {
    for (byte b : "Hi\n".getBytes(StandardCharsets.US_ASCII)) {
      out(RBR_THR_DLL, b);
    }
    assertEquals("Hi\n", out.toString(StandardCharsets.US_ASCII));
    assertEquals(0, uart.oddAccesses());
  }

  @Test
  void lsrAlwaysReportsTheTransmitterEmpty() {
    assertEquals(LSR_THRE | LSR_TEMT, in(LSR));
    out(RBR_THR_DLL, 'x');
    assertEquals(LSR_THRE | LSR_TEMT, in(LSR));
  }

  @Test
  void queuedInputSetsDataReadyUntilDrained() {
    out(IIR_FCR, FCR_ENABLE);
    uart.receive((byte) 'a', (byte) 'b');
    assertEquals(LSR_DR | LSR_THRE | LSR_TEMT, in(LSR));
    assertEquals('a', in(RBR_THR_DLL));
    assertEquals(LSR_DR, in(LSR) & LSR_DR);
    assertEquals('b', in(RBR_THR_DLL));
    assertEquals(0, in(LSR) & LSR_DR);
    assertEquals(0, in(RBR_THR_DLL), "an empty receiver reads 0");
  }

  @Test
  void theFifoHoldsSixteenBytesAndOverrunsLoseTheSeventeenth() {
    out(IIR_FCR, FCR_ENABLE);
    assertEquals(16, uart.receiveSpace());
    byte[] many = new byte[17];
    for (int i = 0; i < many.length; i++) {
      many[i] = (byte) i;
    }
    uart.receive(many);
    assertEquals(0, uart.receiveSpace());
    assertEquals(LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT, in(LSR));
    assertEquals(0, in(LSR) & LSR_OE, "reading LSR cleared OE");
    for (int i = 0; i < 16; i++) {
      assertEquals(i, in(RBR_THR_DLL));
    }
    assertEquals(0, in(LSR) & LSR_DR, "byte 16 was lost");
  }

  @Test
  void theLineMaySendOnlyWhileRtsIsOnOutsideLoopback() {
    assertEquals(0, uart.sendWindow());
    out(MCR, MCR_RTS);
    assertEquals(1, uart.sendWindow());
    out(IIR_FCR, FCR_ENABLE);
    assertEquals(16, uart.sendWindow());
    uart.receive((byte) 1, (byte) 2);
    assertEquals(14, uart.sendWindow());
    out(MCR, MCR_RTS | MCR_LOOP);
    assertEquals(0, uart.sendWindow(), "in loopback the receiver listens to the transmitter");
  }

  @Test
  void withoutFifosTheReceiverHoldsOneByteAndAnOverrunReplacesIt() {
    assertEquals(1, uart.receiveSpace());
    uart.receive((byte) 'a', (byte) 'b');
    assertEquals(LSR_DR | LSR_OE, in(LSR) & (LSR_DR | LSR_OE));
    assertEquals('b', in(RBR_THR_DLL));
    assertEquals(0, in(LSR) & LSR_DR);
  }

  @Test
  void dlabSwitchesToTheDivisorLatch() {
    out(IER_DLM, IER_RDA); // IER before DLAB
    out(LCR, LCR_DLAB | 0x03);
    out(RBR_THR_DLL, 0x01); // 115200 baud
    out(IER_DLM, 0x00);
    assertEquals(1, uart.divisor());
    assertEquals(0x01, in(RBR_THR_DLL));
    assertEquals(0x00, in(IER_DLM));
    assertEquals(LCR_DLAB | 0x03, in(LCR));
    out(LCR, 0x03);
    assertEquals(IER_RDA, in(IER_DLM), "IER kept its value while DLAB was set");
    assertEquals(0, out.size(), "a divisor write is not transmitted");
  }

  @Test
  void divisorHighByte() {
    out(LCR, LCR_DLAB);
    out(RBR_THR_DLL, 0x80);
    out(IER_DLM, 0x01);
    assertEquals(0x180, uart.divisor());
  }

  @Test
  void ierKeepsOnlyItsFourBits() {
    out(IER_DLM, 0xff);
    assertEquals(0x0f, in(IER_DLM));
  }

  @Test
  void iirWithoutInterruptsAndFifoBits() {
    assertEquals(IIR_NO_INTERRUPT, in(IIR_FCR));
    out(IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
    assertEquals(IIR_FIFO_ENABLED | IIR_NO_INTERRUPT, in(IIR_FCR));
    out(IIR_FCR, 0);
    assertEquals(IIR_NO_INTERRUPT, in(IIR_FCR));
  }

  @Test
  void fcrClearsTheReceiver() {
    uart.receive((byte) 1, (byte) 2);
    out(IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX);
    assertEquals(0, in(LSR) & LSR_DR);
  }

  @Test
  void receivedDataInterrupt() {
    out(IER_DLM, IER_RDA);
    out(MCR, MCR_OUT2);
    assertFalse(uart.interruptPending());
    uart.receive((byte) 'k');
    assertTrue(uart.interruptPending());
    assertEquals(IIR_RDA, in(IIR_FCR));
    in(RBR_THR_DLL);
    assertEquals(IIR_NO_INTERRUPT, in(IIR_FCR));
    assertFalse(uart.interruptPending());
  }

  @Test
  void thrEmptyInterruptIsRaisedOnEnableAndAcknowledgedByReadingIir() {
    out(IER_DLM, IER_THRE);
    assertEquals(IIR_THRE, in(IIR_FCR));
    assertEquals(IIR_NO_INTERRUPT, in(IIR_FCR), "reading IIR acknowledged THRE");
    out(RBR_THR_DLL, 'z');
    assertEquals(IIR_THRE, in(IIR_FCR), "the byte left at once, so THRE rises again");
  }

  @Test
  void receivedDataHasPriorityOverThre() {
    out(IER_DLM, IER_RDA | IER_THRE);
    uart.receive((byte) 1);
    assertEquals(IIR_RDA, in(IIR_FCR));
  }

  @Test
  void interruptOutputIsGatedByOut2() {
    out(IER_DLM, IER_THRE);
    assertFalse(uart.interruptPending());
    out(MCR, MCR_OUT2);
    assertTrue(uart.interruptPending());
  }

  @Test
  void msrReportsAReadyTerminal() {
    assertEquals(MSR_DCD | MSR_DSR | MSR_CTS, in(MSR));
  }

  @Test
  void mcrKeepsFiveBits() {
    out(MCR, 0xff);
    assertEquals(0x1f, in(MCR));
  }

  @Test
  void loopbackSendsOutputToTheReceiverAndModemLinesBack() {
    out(MCR, MCR_LOOP | MCR_RTS | MCR_OUT1);
    out(RBR_THR_DLL, 0x5a);
    assertEquals(0, out.size(), "loopback output never reaches the line");
    assertEquals(LSR_DR, in(LSR) & LSR_DR);
    assertEquals(0x5a, in(RBR_THR_DLL));
    // DSR and DCD fell (DTR and OUT2 are off): their deltas are set too.
    assertEquals(MSR_CTS | MSR_RI | MSR_DDSR | MSR_DDCD, in(MSR));
    assertEquals(MSR_CTS | MSR_RI, in(MSR), "reading MSR cleared the deltas");
  }

  @Test
  void scratchRegisterHoldsAByte() {
    out(SCR, 0xa5);
    assertEquals(0xa5, in(SCR));
  }

  @Test
  void writesToReadOnlyRegistersAreIgnoredAndCounted() {
    out(LSR, 0);
    out(MSR, 0);
    assertEquals(LSR_THRE | LSR_TEMT, in(LSR));
    assertEquals(MSR_DCD | MSR_DSR | MSR_CTS, in(MSR));
    assertEquals(2, uart.oddAccesses());
  }

  @Test
  void wideReadIsSplitIntoConsecutiveRegisters() {
    out(SCR, 0x11);
    out(LCR, 0x03);
    // A 16-bit read at LCR sees LCR in the low byte and MCR in the high byte.
    out(MCR, 0x0b);
    assertEquals(0x0b03, uart.read(LCR, 2));
    // A 4-byte read at SCR: SCR, then three bytes past the end that read as 0xff.
    assertEquals(0xffffff11L, uart.read(SCR, 4));
    assertEquals(2, uart.oddAccesses());
  }

  @Test
  void wideWriteToThrTransmitsTheLowByteAndWritesTheNextRegister() {
    uart.write(RBR_THR_DLL, 2, 0x0f41);
    assertEquals("A", out.toString(StandardCharsets.US_ASCII));
    assertEquals(0x0f, in(IER_DLM));
    assertEquals(1, uart.oddAccesses());
  }

  @Test
  void accessesPastTheEndReadAllOnesAndAreCounted() {
    assertEquals(0xff, uart.read(8, 1));
    uart.write(100, 1, 0x41);
    assertEquals(0, out.size());
    assertEquals(2, uart.oddAccesses());
  }

  @Test
  void aFailingSinkNeverReachesTheGuest() {
    Uart16550 broken =
        new Uart16550(
            new OutputStream() {
              @Override
              public void write(int b) throws IOException {
                throw new IOException("closed");
              }
            });
    broken.write(RBR_THR_DLL, 1, 'x');
    assertEquals(LSR_THRE | LSR_TEMT, broken.read(LSR, 1));
  }

  @Test
  void newlineFlushesTheSink() {
    int[] flushes = {0};
    Uart16550 u =
        new Uart16550(
            new OutputStream() {
              @Override
              public void write(int b) {}

              @Override
              public void flush() {
                flushes[0]++;
              }
            });
    u.write(0, 1, 'a');
    assertEquals(0, flushes[0]);
    u.write(0, 1, '\n');
    assertEquals(1, flushes[0]);
  }
}
