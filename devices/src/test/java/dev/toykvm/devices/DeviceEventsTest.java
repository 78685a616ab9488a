package dev.toykvm.devices;

import static dev.toykvm.devices.Uart16550.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link DeviceEvents} driven by hand, as the server's poll loop drives it. */
class DeviceEventsTest {
  private final Pipe input = Fds.pipe2();
  private final int irqfd = Eventfd.create();
  private final int resamplefd = Eventfd.create();
  private final AtomicLong now = new AtomicLong(5_000_000_000L);
  private final IrqfdLines lines =
      new IrqfdLines(List.of(new IrqfdLines.Irqfd(4, irqfd, resamplefd)));
  private final Uart16550 uart = new Uart16550(new ByteArrayOutputStream(), lines, 4, now::get);
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final DeviceEvents events =
      new DeviceEvents(
          "com1",
          lines,
          uart,
          input.readFd(),
          now::get,
          new PrintStream(log, true, StandardCharsets.UTF_8));

  @AfterEach
  void close() {
    input.close();
    Fds.close(irqfd);
    Fds.close(resamplefd);
  }

  private void type(String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    try (Arena a = Arena.ofConfined()) {
      MemorySegment seg = a.allocate(b.length);
      MemorySegment.copy(MemorySegment.ofArray(b), 0, seg, 0, b.length);
      Fds.writeFully(input.writeFd(), seg, b.length);
    }
  }

  /** One round of the server's loop, without the command fd. */
  private void round() {
    int[] fds = events.fds();
    int[] ev = new int[fds.length];
    java.util.Arrays.fill(ev, Poll.POLLIN);
    int[] revents = Poll.poll(fds, ev, 0);
    for (int i = 0; i < fds.length; i++) {
      if (fds[i] >= 0 && revents[i] != 0) {
        events.ready(i, revents[i]);
      }
    }
    events.tick();
  }

  @Test
  void theInputIsWaitedOnOnlyWhileTheLineMaySend() {
    assertArrayEquals(new int[] {resamplefd, -1}, events.fds(), "RTS off");
    uart.write(MCR, 1, MCR_RTS);
    assertArrayEquals(new int[] {resamplefd, input.readFd()}, events.fds());
    uart.receive((byte) 1); // FIFOs off: the one-byte receiver is full
    assertArrayEquals(new int[] {resamplefd, -1}, events.fds());
  }

  @Test
  void noMoreIsReadThanTheFifoHoldsAndTheRestWaitsInThePipe() {
    uart.write(IIR_FCR, 1, FCR_ENABLE);
    uart.write(MCR, 1, MCR_RTS);
    String text = "abcdefghijklmnopqrstuvwxyz";
    type(text);
    round();
    assertEquals(16, events.inputBytes());
    round();
    assertEquals(16, events.inputBytes(), "full: the input is left alone");
    StringBuilder got = new StringBuilder();
    while (got.length() < text.length()) {
      while ((uart.read(LSR, 1) & LSR_DR) != 0) {
        got.append((char) uart.read(RBR_THR_DLL, 1));
      }
      round();
    }
    assertEquals(text, got.toString());
    assertEquals(0, uart.read(LSR, 1) & LSR_OE);
  }

  @Test
  void eofClosesTheInputForGood() {
    uart.write(MCR, 1, MCR_RTS);
    input.closeWriteEnd();
    round();
    assertTrue(log.toString(StandardCharsets.UTF_8).contains("EOF on the serial input after 0"));
    assertArrayEquals(new int[] {resamplefd, -1}, events.fds());
  }

  @Test
  void aResampleReassertsAStillHighLine() {
    uart.write(MCR, 1, MCR_OUT2);
    uart.write(IER_DLM, 1, IER_THRE);
    assertEquals(1, Eventfd.drain(irqfd));
    Eventfd.signal(resamplefd); // the kernel side: EOI
    round();
    assertEquals(1, Eventfd.drain(irqfd));
    assertEquals(1, lines.resamples());
  }

  @Test
  void theCharacterTimeoutIsTheWaitsDeadline() {
    assertEquals(-1, events.timeoutMs(), "nothing due");
    uart.write(LCR, 1, 0x03); // 8N1 at the reset divisor, 9600 baud
    uart.write(IIR_FCR, 1, FCR_ENABLE | FCR_TRIGGER_14);
    uart.write(IER_DLM, 1, IER_RDA);
    uart.write(MCR, 1, MCR_OUT2);
    uart.receive((byte) 'x');
    assertEquals(5, events.timeoutMs(), "4.17 ms, rounded up");
    now.addAndGet(4_166_666);
    assertEquals(-1, events.timeoutMs(), "fired");
    round();
    assertEquals(1, Eventfd.drain(irqfd), "the tick raised the line");
  }
}
