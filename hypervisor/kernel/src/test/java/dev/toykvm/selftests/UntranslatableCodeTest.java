package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.VcpuExit;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two bytes must not take the host down: {@code FF /3} and {@code FF /5} with a register operand
 * (far call/jmp through a register) make Debian's libunicorn 2.0.1 call {@code abort()} when it
 * translates them. On a CPU they raise #UD, and so they do here: the instructions before them run
 * exactly once, and the guest's #UD handler sees the faulting instruction's address, in every mode.
 * That this test class ends at all is half of what it checks.
 */
@Timeout(120)
class UntranslatableCodeTest {
  private static final long IDT = 0x3000;
  private static final int CODE = 0x1000;
  private static final int HANDLER = 0x1100;

  enum Mode {
    REAL,
    PROTECTED,
    LONG
  }

  /** Every far call/jmp with a register operand, with and without prefixes, in every mode. */
  static Stream<Arguments> encodings() {
    List<Arguments> all = new ArrayList<>();
    for (Mode mode : Mode.values()) {
      IntStream.concat(IntStream.rangeClosed(0xd8, 0xdf), IntStream.rangeClosed(0xe8, 0xef))
          .forEach(modrm -> all.add(Arguments.of(mode, new int[] {0xff, modrm})));
      all.add(Arguments.of(mode, new int[] {0x66, 0xff, 0xd8}));
      all.add(Arguments.of(mode, new int[] {0xf3, 0x2e, 0xff, 0xe9}));
    }
    all.add(Arguments.of(Mode.LONG, new int[] {0x48, 0xff, 0xd8}));
    all.add(Arguments.of(Mode.LONG, new int[] {0x66, 0x41, 0xff, 0xef}));
    return all.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("encodings")
  void farCallOrJmpThroughARegisterRaisesInvalidOpcode(Mode mode, int[] bad) {
    try (TestVm t = new TestVm()) {
      // The immediate holds the same two bytes: a place where the instruction could start but
      // does not, which the vCPU must try and pass.
      int[] before = {
        0xb8,
        0xff,
        0xd8,
        0x00,
        0x00, // mov eax, 0xd8ff
        0xb0,
        0x05, // mov al, 5
        0xfe,
        0xc0 // inc al            <- al = 6 once, 7 if it ran twice
      };
      if (mode == Mode.REAL) {
        before = new int[] {0xb8, 0xff, 0xd8, 0xb0, 0x05, 0xfe, 0xc0};
      }
      int at = CODE + before.length;
      t.load(CODE, before);
      t.load(at, bad);
      t.load(at + bad.length, 0xf4); // hlt (never reached)
      t.load(
          HANDLER, 0xe6, 0x80, // #UD handler: out 0x80, al
          0xf4); // hlt
      switch (mode) {
        case REAL -> {
          t.load(6 * 4, HANDLER & 0xff, HANDLER >> 8, 0, 0); // IVT[6] = 0000:1100
          t.realMode(CODE);
        }
        case PROTECTED -> {
          t.gate32(IDT, 6, HANDLER);
          t.protectedMode(CODE, new KvmDtable(IDT, 256 * 8 - 1));
        }
        case LONG -> {
          t.gate64(IDT, 6, HANDLER);
          t.longMode(CODE, new KvmDtable(IDT, 256 * 16 - 1));
        }
      }

      assertEquals(new VcpuExit.IoOut(0x80, 1, 6), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      long rsp = t.vcpu.getRegs().rsp();
      long savedIp =
          switch (mode) {
            case REAL -> t.ram.get(ValueLayout.JAVA_SHORT, rsp & 0xffff) & 0xffff;
            case PROTECTED -> t.ram.get(ValueLayout.JAVA_INT, rsp) & 0xffff_ffffL;
            case LONG -> t.ram.get(ValueLayout.JAVA_LONG, rsp);
          };
      assertEquals(at, savedIp, "the #UD frame points at the far call/jmp");
    }
  }

  @Test
  void theSameCodeRunsAgainAfterTheFirstFault() {
    // The loop reaches the bad instruction three times: each time a #UD, whose handler skips it.
    try (TestVm t = new TestVm()) {
      t.load(
          CODE, 0xb1, 0x03, // mov cl, 3
          0xfe, 0xc0, //         loop: inc al
          0xff, 0xd8, //               call far eax   <- #UD, the handler skips these 2 bytes
          0xfe, 0xc9, //               dec cl
          0x75, 0xf8, //               jnz loop
          0xe6, 0x81, //         out 0x81, al
          0xf4); //              hlt
      t.load(
          HANDLER, 0x48, 0x83, 0x04, 0x24, 0x02, // add qword [rsp], 2
          0x48, 0xcf); // iretq
      t.gate64(IDT, 6, HANDLER);
      t.longMode(CODE, new KvmDtable(IDT, 256 * 16 - 1));
      t.vcpu.setRegs(t.vcpu.getRegs().withRax(0));
      assertEquals(new VcpuExit.IoOut(0x81, 1, 3), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
    }
  }
}
