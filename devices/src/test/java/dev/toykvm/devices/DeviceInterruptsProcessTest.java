package dev.toykvm.devices;

import static dev.toykvm.devices.Uart16550.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
import dev.toykvm.posix.WaitStatus;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A UART and a test device in their own JVMs ({@link DeviceMain}) with an input pipe and irqfds:
 * the test plays the guest (commands on the wire protocol), the kernel side (reads the irqfd,
 * writes the resamplefd for an EOI) and the user (writes the input pipe).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeviceInterruptsProcessTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private Pipe input;
  private int irqfd;
  private int resamplefd;
  private DeviceProcess dev;

  @BeforeEach
  void fds() {
    input = Fds.pipe2();
    irqfd = Eventfd.create();
    resamplefd = Eventfd.create();
  }

  @AfterEach
  void close() {
    if (dev != null) {
      dev.close();
    }
    input.close();
    Fds.close(irqfd);
    Fds.close(resamplefd);
  }

  /** The UART with the input pipe as its fd 3 and the irqfd pair as fds 4 and 5, on GSI 4. */
  private void startUart() {
    dev =
        DeviceProcess.start(
            DeviceMainTest.deviceCommand("uart", "--input", "3", "--irqfd", "4:4:5"),
            line -> {},
            input.readFd(),
            irqfd,
            resamplefd);
    input.closeReadEnd();
  }

  private int in(int reg) {
    return (int) dev.read(0, reg, 1, TIMEOUT);
  }

  private void out(int reg, int value) {
    dev.write(0, reg, 1, value, TIMEOUT);
  }

  private void type(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
    try (Arena a = Arena.ofConfined()) {
      MemorySegment seg = a.allocate(bytes.length);
      MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 0, bytes.length);
      Fds.writeFully(input.writeFd(), seg, bytes.length);
    }
  }

  /** Waits for an injection: the irqfd's counter, read as the kernel side reads it. */
  private long awaitInjection() {
    assertTrue(Poll.poll(irqfd, (int) TIMEOUT.toMillis()).readable(), "no irqfd write");
    return Eventfd.drain(irqfd);
  }

  /** The guest's EOI as the kernel side reports it, then a round trip so the device saw it. */
  private void eoi() {
    Eventfd.signal(resamplefd);
    in(SCR);
  }

  @Test
  void typedBytesRaiseTheReceivedDataInterruptAndAreReadInOrder() {
    startUart();
    out(MCR, MCR_OUT2 | MCR_RTS);
    out(IER_DLM, IER_RDA);
    assertEquals(0, Eventfd.drain(irqfd), "nothing received yet");

    type("hi");
    assertEquals(1, awaitInjection());
    assertEquals(IIR_RDA, in(IIR_FCR));
    assertEquals('h', in(RBR_THR_DLL));
    // FIFOs off: one byte at a time reaches the receiver (back-pressure), the line rises again,
    // and since the GSI is still asserted in the kernel nothing is written until the EOI.
    await().atMost(TIMEOUT).until(() -> (in(LSR) & LSR_DR) != 0);
    assertEquals(0, Eventfd.drain(irqfd));
    eoi();
    assertEquals(1, awaitInjection(), "still high at the resample: asserted again");
    assertEquals('i', in(RBR_THR_DLL));
    eoi();
    assertEquals(0, Eventfd.drain(irqfd), "low at the resample: nothing more");
    assertEquals(0, in(LSR) & LSR_OE, "back-pressure: no overrun");
  }

  @Test
  void inputWaitsForRtsSoThatSwitchingTheFifoOnLosesNothing() {
    startUart();
    type("early");
    out(SCR, 1); // a round trip: the device has looked at its fds since
    assertEquals(0, in(LSR) & LSR_DR, "RTS is off: the input waits");
    out(IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_TRIGGER_1);
    out(MCR, MCR_RTS);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              if ((in(LSR) & LSR_DR) != 0) {
                got.write(in(RBR_THR_DLL));
              }
              return got.size() == 5;
            });
    assertEquals("early", got.toString(StandardCharsets.US_ASCII));
  }

  @Test
  void thrEmptyInterruptThroughTheIrqfd() {
    startUart();
    out(MCR, MCR_OUT2);
    out(IER_DLM, IER_THRE);
    assertEquals(1, awaitInjection());
    assertEquals(IIR_THRE, in(IIR_FCR));
    eoi();
    assertEquals(0, Eventfd.drain(irqfd), "IIR read acknowledged it: the line is low");
    out(RBR_THR_DLL, 'x');
    assertEquals(1, awaitInjection(), "THR emptied again");
  }

  @Test
  void aPipeOfManyBytesReachesTheGuestWholeThroughTheFifo() {
    startUart();
    out(IIR_FCR, FCR_ENABLE | FCR_TRIGGER_8);
    out(MCR, MCR_RTS);
    String text = "the quick brown fox jumps over the lazy dog\n".repeat(10);
    type(text);
    input.closeWriteEnd();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(1))
        .until(
            () -> {
              int lsr = in(LSR);
              assertEquals(0, lsr & LSR_OE, "an overrun");
              if ((lsr & LSR_DR) != 0) {
                got.write(in(RBR_THR_DLL));
              }
              return got.size() == text.length();
            });
    assertEquals(text, got.toString(StandardCharsets.US_ASCII));
    await()
        .atMost(TIMEOUT)
        .until(() -> dev.stderr().contains("EOF on the serial input after " + text.length()));
    assertEquals(0x5a, writeAndReadScratch(), "the device goes on serving after the EOF");
  }

  @Test
  void fewerBytesThanTheTriggerLevelInterruptAfterTheCharacterTimeout() {
    startUart();
    out(IIR_FCR, FCR_ENABLE | FCR_TRIGGER_14);
    out(LCR, LCR_DLAB | 0x03);
    out(RBR_THR_DLL, 1); // 115200 baud: four characters take 347 us
    out(LCR, 0x03);
    out(MCR, MCR_OUT2 | MCR_RTS);
    out(IER_DLM, IER_RDA);
    type("abc");
    assertEquals(1, awaitInjection(), "the timeout fired in the device's poll");
    assertEquals(IIR_FIFO_ENABLED | IIR_TIMEOUT, in(IIR_FCR));
    assertEquals('a', in(RBR_THR_DLL));
  }

  @Test
  void testdevRaisesAndPulsesThroughItsIrqfds() {
    int edgefd = Eventfd.create();
    try {
      dev =
          DeviceProcess.start(
              DeviceMainTest.deviceCommand("testdev", "--irqfd", "5:3:4", "--irqfd", "24:5"),
              line -> {},
              irqfd,
              resamplefd,
              edgefd);
      dev.write(0, TestDevice.IRQ_RAISE, 8, 5, TIMEOUT);
      assertEquals(1, awaitInjection());
      eoi();
      assertEquals(1, awaitInjection(), "held raised: asserted again after the EOI");
      dev.write(0, TestDevice.IRQ_LOWER, 8, 5, TIMEOUT);
      eoi();
      assertEquals(0, Eventfd.drain(irqfd));
      dev.write(0, TestDevice.IRQ_PULSE, 8, 24, TIMEOUT);
      dev.write(0, TestDevice.IRQ_PULSE, 8, 24, TIMEOUT);
      assertEquals(2, Eventfd.drain(edgefd), "one irqfd write per edge");
    } finally {
      dev.close();
      dev = null;
      Fds.close(edgefd);
    }
  }

  @Test
  void anIrqfdThatIsNotAnEventfdIsAUsageError() throws Exception {
    dev =
        DeviceProcess.start(
            DeviceMainTest.deviceCommand("testdev", "--irqfd", "5:3:4"),
            line -> {},
            input.readFd(),
            resamplefd);
    assertEquals(
        java.util.Optional.of(2), dev.waitFor(TIMEOUT).map(WaitStatus::exitCode), dev.stderr());
    assertTrue(dev.awaitStderrEof(TIMEOUT).contains("are not open eventfds"), dev.stderr());
  }

  private int writeAndReadScratch() {
    out(SCR, 0x5a);
    return in(SCR);
  }
}
