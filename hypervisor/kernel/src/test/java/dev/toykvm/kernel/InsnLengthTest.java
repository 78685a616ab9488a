package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Instruction lengths for the encodings a block before a string I/O instruction may hold. */
class InsnLengthTest {

  private static int length(String hex, int bits) {
    return InsnLength.decode(HexFormat.of().parseHex(hex), 0, bits).length();
  }

  @Test
  void oneByteMapInSixtyFourBitCode() {
    assertEquals(7, length("48c7c600300000", 64)); // mov rsi, imm32
    assertEquals(10, length("48b88877665544332211", 64)); // mov rax, imm64
    assertEquals(5, length("b800000000", 64)); // mov eax, imm32
    assertEquals(4, length("66baf803", 64)); // mov dx, imm16
    assertEquals(8, length("c6042500000010" + "55", 64)); // mov byte [abs], imm8
    assertEquals(7, length("c605010000" + "0002", 64)); // mov byte [rip+1], imm8
    assertEquals(8, length("4889042508000010", 64)); // mov [abs], rax (SIB, disp32)
    assertEquals(3, length("8b4508", 64)); // mov eax, [rbp+8]
    assertEquals(2, length("ffd1", 64)); // call rcx
    assertEquals(5, length("e8fbefffff", 64)); // call rel32
    assertEquals(2, length("eb00", 64)); // jmp rel8
    assertEquals(6, length("f7c000000001", 64)); // test eax, imm32 (F7 /0 has an immediate)
    assertEquals(2, length("f7d8", 64)); // neg eax (F7 /3 has none)
    assertEquals(9, length("a0" + "0000000000000000", 64)); // mov al, moffs64
    assertEquals(4, length("c8100000", 64)); // enter 16, 0
    assertEquals(2, length("f36e", 64)); // rep outsb
    assertEquals(3, length("f3666f", 64)); // rep outsw
    assertEquals(4, length("67f3486d", 64)); // addr32 rep insq-size with REX.W
  }

  @Test
  void sixteenBitCodeUsesSixteenBitImmediatesAndAddresses() {
    assertEquals(3, length("b80002", 16)); // mov ax, 0x200
    assertEquals(2, length("8ec0", 16)); // mov es, ax
    assertEquals(4, length("8b0e3412", 16)); // mov cx, [0x1234] (mod 0 rm 6: disp16)
    assertEquals(6, length("66b878563412", 16)); // mov eax, imm32
    assertEquals(5, length("9a00000010", 16)); // call far 1000:0000
    assertEquals(3, length("26f36e", 16)); // es rep outsb
    assertEquals(3, length("a10010", 16)); // mov ax, moffs16
  }

  @Test
  void twoByteAndVexMaps() {
    assertEquals(2, length("0fa2", 32)); // cpuid
    assertEquals(6, length("0f8400000000", 32)); // jz rel32
    assertEquals(3, length("0fb6c0", 32)); // movzx eax, al
    assertEquals(4, length("0fbae003", 32)); // bt eax, 3
    assertEquals(6, length("660f3a0fc108", 32)); // palignr xmm0, xmm1, 8: ModRM + imm8
    assertEquals(3, length("c5f877", 64)); // vzeroupper
    assertEquals(5, length("c4e27918c0", 64)); // vbroadcastss xmm0, xmm0
  }

  @Test
  void theLastInstructionOfABlockIsFoundOnlyIfTheDecodingEndsThere() {
    byte[] block =
        HexFormat.of().parseHex("48c7c600300000" + "48c7c164000000" + "66baf803" + "f36e");
    InsnLength.Insn last = StringIo.lastInstruction(block, 64);
    assertTrue(last.rep());
    assertEquals(0x6e, last.opcode());
    // "mov al, 0xf3; outsb": the f3 is an immediate, not a rep prefix.
    InsnLength.Insn plain = StringIo.lastInstruction(HexFormat.of().parseHex("b0f36e"), 64);
    assertFalse(plain.rep());
    assertNull(StringIo.lastInstruction(HexFormat.of().parseHex("48c7c6003000"), 64));
  }
}
