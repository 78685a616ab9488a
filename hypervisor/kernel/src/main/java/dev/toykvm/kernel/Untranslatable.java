package dev.toykvm.kernel;

import java.util.Arrays;

/**
 * The encodings libunicorn 2.0.1's translator cannot take: {@code FF /3} and {@code FF /5} with a
 * register operand (ModRM {@code mod = 11}), i.e. far call and far jmp "through a register", which
 * a CPU answers with #UD. Translating one makes the library call {@code abort()}; the native guard
 * turns that into {@link dev.toykvm.kernel.unicorn.UcEngine#ABORTED}, with the CPU state at the
 * start of the translation block that holds it.
 *
 * <p>The vCPU then has to find where that instruction starts without decoding the whole block: it
 * lists every place in the block's bytes where such an instruction <em>could</em> start ({@link
 * #candidates}), runs a fresh engine with {@code until} at each in turn, and checks the instruction
 * it stopped at ({@link #at}). A candidate that is not an instruction boundary is never reached
 * (the translator only compares instruction starts with {@code until}) and aborts again, which
 * costs an engine and leads to the next candidate; the real one is always on the list.
 */
final class Untranslatable {
  private Untranslatable() {}

  /** The longest x86 instruction. */
  static final int MAX_INSN = 15;

  /** Whether an instruction of this kind starts at {@code code[0]}. */
  static boolean at(byte[] code, boolean longMode) {
    int i = 0;
    while (i < code.length && i < MAX_INSN && isLegacyPrefix(code[i] & 0xff)) {
      i++;
    }
    if (longMode && i < code.length && isRex(code[i] & 0xff)) {
      i++;
    }
    return i + 1 < code.length && isBadOpcode(code[i] & 0xff, code[i + 1] & 0xff);
  }

  /**
   * Every offset in {@code code} at which such an instruction could start, in increasing order:
   * each {@code FF} with a matching ModRM, and each offset before it from which only prefixes lead
   * up to it.
   */
  static int[] candidates(byte[] code, boolean longMode) {
    int[] out = new int[16];
    int n = 0;
    int lastAdded = -1;
    for (int p = 0; p + 1 < code.length; p++) {
      if (!isBadOpcode(code[p] & 0xff, code[p + 1] & 0xff)) {
        continue;
      }
      int first = p;
      // A REX prefix must come right before the opcode; legacy prefixes before that.
      if (longMode && first > 0 && isRex(code[first - 1] & 0xff)) {
        first--;
      }
      while (first > 0 && p - first < MAX_INSN - 1 && isLegacyPrefix(code[first - 1] & 0xff)) {
        first--;
      }
      for (int start = Math.max(first, lastAdded + 1); start <= p; start++) {
        if (n == out.length) {
          out = Arrays.copyOf(out, n * 2);
        }
        out[n++] = start;
        lastAdded = start;
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static boolean isBadOpcode(int opcode, int modrm) {
    int mod = modrm >>> 6;
    int reg = (modrm >>> 3) & 7;
    return opcode == 0xff && mod == 3 && (reg == 3 || reg == 5);
  }

  private static boolean isRex(int b) {
    return b >= 0x40 && b <= 0x4f;
  }

  private static boolean isLegacyPrefix(int b) {
    return switch (b) {
      case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3 -> true;
      default -> false;
    };
  }
}
