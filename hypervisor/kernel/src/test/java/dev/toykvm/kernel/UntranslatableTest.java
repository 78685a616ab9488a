package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UntranslatableTest {
  private static byte[] bytes(int... b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = (byte) b[i];
    }
    return out;
  }

  @Test
  void farCallAndJmpThroughARegisterOnly() {
    assertTrue(Untranslatable.at(bytes(0xff, 0xd8), false)); // call far eax
    assertTrue(Untranslatable.at(bytes(0xff, 0xef), false)); // jmp far edi
    assertFalse(Untranslatable.at(bytes(0xff, 0xd0), false)); // call eax (near): fine
    assertFalse(Untranslatable.at(bytes(0xff, 0x18), false)); // call far [eax]: fine
    assertFalse(Untranslatable.at(bytes(0xff), false)); // cut short
  }

  @Test
  void prefixesAndRexLeadUpToTheOpcode() {
    assertTrue(Untranslatable.at(bytes(0x66, 0xf3, 0xff, 0xd9), false));
    assertTrue(Untranslatable.at(bytes(0x48, 0xff, 0xd8), true));
    // 0x48 is dec eax outside long mode: a whole instruction, not a prefix.
    assertFalse(Untranslatable.at(bytes(0x48, 0xff, 0xd8), false));
  }

  @Test
  void candidatesAreEveryPossibleStartInOrder() {
    // mov eax, 0xd8ff ; 66 48 ff e8
    byte[] code = bytes(0xb8, 0xff, 0xd8, 0x00, 0x00, 0x66, 0x48, 0xff, 0xe8);
    assertArrayEquals(new int[] {1, 5, 6, 7}, Untranslatable.candidates(code, true));
    assertArrayEquals(new int[] {1, 7}, Untranslatable.candidates(code, false));
    assertArrayEquals(new int[0], Untranslatable.candidates(bytes(0x90, 0xf4), true));
  }
}
