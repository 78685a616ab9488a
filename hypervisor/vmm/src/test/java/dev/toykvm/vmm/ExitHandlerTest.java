package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.devices.Uart16550;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.VcpuExit;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Exit handling with made-up exits: no CPU, no kernel side. */
class ExitHandlerTest {
  private static final long IF = 1L << 9;

  private final ByteArrayOutputStream serial = new ByteArrayOutputStream();
  private final ByteArrayOutputStream traceBytes = new ByteArrayOutputStream();
  private final Uart16550 uart = new Uart16550(serial);
  private final DebugExitPort debugExit = new DebugExitPort();
  private final Bus pio = new Bus("pio");
  private final Bus mmio = new Bus("mmio");
  private final ExitHandler handler;

  ExitHandlerTest() {
    pio.insert("debug-exit", MachineLayout.DEBUG_EXIT_PORT, 1, debugExit);
    pio.insert("com1", MachineLayout.COM1_BASE, 8, uart);
    handler =
        new ExitHandler(
            0, pio, mmio, debugExit, new PrintStream(traceBytes, true, StandardCharsets.UTF_8));
  }

  private static Supplier<KvmRegs> regs(long rip, long rflags) {
    return () -> KvmRegs.reset().withRip(rip).withRflags(rflags);
  }

  private static final Supplier<KvmRegs> NO_REGS =
      () -> {
        throw new AssertionError("this exit must not need the registers");
      };

  private Optional<VmOutcome> handle(VcpuExit exit) {
    return handler.handle(exit, NO_REGS);
  }

  private String trace() {
    return traceBytes.toString(StandardCharsets.UTF_8);
  }

  /** An IoIn exit whose answer the test can read back, as the next run() would. */
  private static final class Answer {
    final AtomicLong value = new AtomicLong(0x1234_5678);
  }

  @Test
  void ioOutToComOneReachesTheUart() {
    for (char c : "Hi".toCharArray()) {
      assertEquals(Optional.empty(), handle(new VcpuExit.IoOut(0x3f8, 1, c)));
    }
    assertEquals("Hi", serial.toString(StandardCharsets.US_ASCII));
    assertEquals(
        "[vcpu0] IO out port=0x3f8 size=1 data=0x48\n"
            + "[vcpu0] IO out port=0x3f8 size=1 data=0x69\n",
        trace());
  }

  @Test
  void ioInFromLsrReportsTheTransmitterEmpty() {
    Answer a = new Answer();
    assertEquals(Optional.empty(), handle(new VcpuExit.IoIn(0x3fd, 1, a.value::set)));
    assertEquals(Uart16550.LSR_THRE | Uart16550.LSR_TEMT, a.value.get());
    assertEquals("[vcpu0] IO in port=0x3fd size=1 -> 0x60\n", trace());
  }

  @Test
  void repOutsToComOneIsOneUartWritePerElement() {
    byte[] hello = "Hello".getBytes(StandardCharsets.US_ASCII);
    assertEquals(Optional.empty(), handle(new VcpuExit.IoOutString(0x3f8, 1, 5, hello)));
    assertEquals("Hello", serial.toString(StandardCharsets.US_ASCII));
    assertEquals("[vcpu0] IO out string port=0x3f8 size=1 count=5 data=48656c6c6f\n", trace());
  }

  @Test
  void repInsReadsEachElementFromTheDeviceInOrder() {
    long[] next = {0x1110};
    pio.insert(
        "counter",
        0x300,
        2,
        new dev.toykvm.devices.BusDevice() {
          @Override
          public long read(long offset, int size) {
            return next[0]++;
          }

          @Override
          public void write(long offset, int size, long value) {}
        });
    VcpuExit.IoInString in = new VcpuExit.IoInString(0x300, 2, 3, new byte[6]);
    assertEquals(Optional.empty(), handle(in));
    assertEquals("1011" + "1111" + "1211", java.util.HexFormat.of().formatHex(in.data()));
    assertEquals(0, handler.unclaimedPioAccesses());
  }

  @Test
  void repInsFromNowhereIsAllOnesAndCountsEachElement() {
    VcpuExit.IoInString in = new VcpuExit.IoInString(0x80, 4, 2, new byte[8]);
    handle(in);
    assertEquals("ffffffffffffffff", java.util.HexFormat.of().formatHex(in.data()));
    assertEquals(2, handler.unclaimedPioAccesses());
    assertTrue(trace().contains("IO in string port=0x80 size=4 count=2"), trace());
  }

  @Test
  void repOutsToTheDebugExitEndsTheVm() {
    assertEquals(
        Optional.of(new VmOutcome.GuestExited(7)),
        handle(new VcpuExit.IoOutString(0xf4, 1, 2, new byte[] {7, 7})));
  }

  @Test
  void debugExitEndsTheVmWithTheByteWritten() {
    assertEquals(Optional.of(new VmOutcome.GuestExited(0)), handle(new VcpuExit.IoOut(0xf4, 1, 0)));
  }

  @Test
  void debugExitStatusIsTheLowByte() {
    Optional<VmOutcome> o = handle(new VcpuExit.IoOut(0xf4, 4, 0x1_2a));
    assertEquals(Optional.of(new VmOutcome.GuestExited(0x2a)), o);
    assertEquals(0x2a, o.get().exitCode());
  }

  @Test
  void unknownPortReadsAllOnesAndWritesAreIgnoredButCounted() {
    Answer a1 = new Answer();
    Answer a2 = new Answer();
    handle(new VcpuExit.IoIn(0x80, 1, a1.value::set));
    handle(new VcpuExit.IoIn(0x60, 2, a2.value::set));
    assertEquals(0xff, a1.value.get());
    assertEquals(0xffff, a2.value.get());
    assertEquals(Optional.empty(), handle(new VcpuExit.IoOut(0x80, 1, 0x12)));
    assertEquals(3, handler.unclaimedPioAccesses());
    assertEquals(0, handler.unclaimedMmioAccesses());
    assertEquals("", serial.toString(StandardCharsets.US_ASCII));
    assertTrue(trace().contains("IO out port=0x80 size=1 data=0x12 (unclaimed)"), trace());
  }

  @Test
  void manyUnclaimedAccessesAreCountedNeverFatal() {
    for (int i = 0; i < 10_000; i++) {
      assertEquals(Optional.empty(), handle(new VcpuExit.IoOut(0x1000 + i, 1, 0)));
    }
    assertEquals(10_000, handler.unclaimedPioAccesses());
  }

  @Test
  void mmioToNothingReadsAllOnesAndWritesAreIgnoredButCounted() {
    Answer a = new Answer();
    assertEquals(Optional.empty(), handle(new VcpuExit.MmioRead(0xa0000, 4, a.value::set)));
    assertEquals(0xffff_ffffL, a.value.get());
    Answer b = new Answer();
    handle(new VcpuExit.MmioRead(0xfec0_0000L, 8, b.value::set));
    assertEquals(-1L, b.value.get());
    assertEquals(Optional.empty(), handle(new VcpuExit.MmioWrite(0xa0000, 1, 0x55)));
    assertEquals(3, handler.unclaimedMmioAccesses());
    assertTrue(trace().contains("MMIO read addr=0xa0000 size=4 -> 0xffffffff (unclaimed)"));
    assertTrue(trace().contains("MMIO write addr=0xa0000 size=1 data=0x55 (unclaimed)"));
  }

  @Test
  void mmioToADeviceGetsTheOffset() {
    Uart16550 mmioUart = new Uart16550(serial);
    mmio.insert("uart-mmio", 0xfe00_0000L, 8, mmioUart);
    handle(new VcpuExit.MmioWrite(0xfe00_0007L, 1, 0x5a)); // SCR
    Answer a = new Answer();
    handle(new VcpuExit.MmioRead(0xfe00_0007L, 1, a.value::set));
    assertEquals(0x5a, a.value.get());
    assertEquals(0, handler.unclaimedMmioAccesses());
  }

  @Test
  void hltWithInterruptsOffIsAHaltedGuest() {
    Optional<VmOutcome> o = handler.handle(new VcpuExit.Hlt(), regs(0xfff5, 0x2));
    VmOutcome.GuestHalted h = assertInstanceOf(VmOutcome.GuestHalted.class, o.orElseThrow());
    assertEquals(ExitCodes.HALTED, h.exitCode());
    assertTrue(h.message().startsWith("guest halted: "), h.message());
    assertTrue(h.message().contains("interrupts disabled"), h.message());
    assertTrue(h.message().contains("rip=0xfff5"), h.message());
  }

  @Test
  void hltWithInterruptsOnAlsoStopsBecauseNothingRaisesOne() {
    VmOutcome o = handler.handle(new VcpuExit.Hlt(), regs(0x1000, 0x2 | IF)).orElseThrow();
    assertEquals(ExitCodes.HALTED, o.exitCode());
    // The message changed with the irqchip: such a Hlt only comes with --no-irqchip now.
    assertTrue(o.message().contains("without an interrupt controller"), o.message());
  }

  @Test
  void shutdownIsATripleFault() {
    VmOutcome o = handle(new VcpuExit.Shutdown()).orElseThrow();
    assertInstanceOf(VmOutcome.TripleFault.class, o);
    assertEquals(ExitCodes.TRIPLE_FAULT, o.exitCode());
    assertTrue(o.message().startsWith("guest triple-faulted"), o.message());
    assertEquals("[vcpu0] SHUTDOWN\n", trace());
  }

  @Test
  void internalErrorSaysWhat() {
    VmOutcome o =
        handle(
                new VcpuExit.InternalError(
                    KvmConstants.KVM_INTERNAL_ERROR_EMULATION, "cannot emulate xsave at 0x1234"))
            .orElseThrow();
    assertEquals(ExitCodes.GUEST_ERROR, o.exitCode());
    assertEquals(
        "the vCPU stopped with an internal error (KVM_EXIT_INTERNAL_ERROR, suberror 1):"
            + " cannot emulate xsave at 0x1234",
        o.message());
  }

  @Test
  void failEntrySaysWhat() {
    VmOutcome o = handle(new VcpuExit.FailEntry(0x21, "long mode without paging")).orElseThrow();
    assertEquals(ExitCodes.GUEST_ERROR, o.exitCode());
    assertEquals(
        "the vCPU could not be entered (KVM_EXIT_FAIL_ENTRY, reason 0x21): long mode without"
            + " paging",
        o.message());
  }

  @Test
  void intrRunsOn() {
    assertEquals(Optional.empty(), handle(new VcpuExit.Intr()));
  }

  @Test
  void noTraceMeansNoOutput() {
    ExitHandler quiet = new ExitHandler(0, pio, mmio, debugExit, null);
    quiet.handle(new VcpuExit.IoOut(0x3f8, 1, 'x'), NO_REGS);
    assertEquals("x", serial.toString(StandardCharsets.US_ASCII));
    assertEquals("", trace());
  }
}
