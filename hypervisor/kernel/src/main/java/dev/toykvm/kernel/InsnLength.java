package dev.toykvm.kernel;

/**
 * The length of an x86 instruction, from its bytes alone: prefixes, REX, VEX/EVEX, the opcode maps,
 * ModRM/SIB, displacements and immediates, in 16-, 32- and 64-bit code. It serves {@link
 * StringIoInsn}, which walks a translation block from its start to find the instruction that ends
 * it; it does not check that the instruction is valid.
 */
final class InsnLength {
  private InsnLength() {}

  // One-byte map: what follows the opcode.
  private static final byte NONE = 0;
  private static final byte M = 1; // ModRM
  private static final byte I8 = 2;
  private static final byte IZ = 4; // imm16 or imm32 by operand size
  private static final byte IV = 8; // imm16/32, imm64 with REX.W (mov r, imm)
  private static final byte I16 = 16;
  private static final byte MOFFS = 32; // an address-size offset
  private static final byte PTR = 64; // seg:offset, a far pointer

  private static final byte[] ONE = new byte[256];

  static {
    for (int op = 0; op < 0x40; op++) {
      int low = op & 7;
      ONE[op] = low < 4 ? M : low == 4 ? I8 : low == 5 ? IZ : NONE;
    }
    set(M, 0x62, 0x63, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f);
    set(M, 0xc4, 0xc5, 0xd0, 0xd1, 0xd2, 0xd3, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf);
    set(M, 0xf6, 0xf7, 0xfe, 0xff);
    set(IZ, 0x68, 0xa9, 0xe8, 0xe9);
    set(I8, 0x6a, 0xa8, 0xcd, 0xd4, 0xd5, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xeb);
    for (int op = 0x70; op < 0x80; op++) {
      ONE[op] = I8;
    }
    for (int op = 0xb0; op < 0xb8; op++) {
      ONE[op] = I8;
      ONE[op + 8] = IV;
    }
    set((byte) (M | IZ), 0x69, 0x81, 0xc7);
    set((byte) (M | I8), 0x6b, 0x80, 0x82, 0x83, 0xc0, 0xc1, 0xc6);
    set(I16, 0xc2, 0xca);
    set((byte) (I16 | I8), 0xc8);
    set(MOFFS, 0xa0, 0xa1, 0xa2, 0xa3);
    set(PTR, 0x9a, 0xea);
  }

  private static void set(byte what, int... ops) {
    for (int op : ops) {
      ONE[op] = what;
    }
  }

  /** Decoded prefixes and opcode of one instruction; {@link #length} is -1 if undecodable. */
  record Insn(
      int length,
      int opcode, // the one-byte opcode, or 0x0f00 | second byte, or -1 for VEX/EVEX
      boolean rep,
      boolean operandSize, // 0x66
      boolean addressSize, // 0x67
      int segment) {} // the last segment override prefix, or -1

  /** Decodes the instruction at {@code code[start]} in {@code bits}-bit code (16, 32 or 64). */
  static Insn decode(byte[] code, int start, int bits) {
    int i = start;
    boolean rep = false;
    boolean opsize = false;
    boolean adsize = false;
    int segment = -1;
    int rex = 0;
    while (i < code.length && i - start < 15) {
      int b = code[i] & 0xff;
      if (b == 0xf2 || b == 0xf3) {
        rep = true;
      } else if (b == 0x66) {
        opsize = true;
      } else if (b == 0x67) {
        adsize = true;
      } else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65) {
        segment = b;
      } else if (b != 0xf0) {
        break;
      }
      i++;
    }
    if (bits == 64 && i < code.length && (code[i] & 0xf0) == 0x40) {
      rex = code[i++] & 0xff;
    }
    if (i >= code.length) {
      return undecodable();
    }
    boolean wide = (rex & 8) != 0;
    int immz = wide ? 4 : (bits == 16) != opsize ? 2 : 4;
    int asize = bits == 64 ? (adsize ? 4 : 8) : (bits == 32) != adsize ? 4 : 2;
    int op = code[i++] & 0xff;
    int length;
    int opcode = op;
    if (op == 0x0f) {
      if (i >= code.length) {
        return undecodable();
      }
      int op2 = code[i++] & 0xff;
      opcode = 0x0f00 | op2;
      length = twoByte(code, i, op2, asize, immz);
    } else if ((op == 0xc4 || op == 0xc5 || op == 0x62)
        && i < code.length
        && (bits == 64 || (code[i] & 0xc0) == 0xc0)) {
      opcode = -1;
      length = vex(code, i, op, asize);
    } else {
      length = operands(code, i, ONE[op], op, asize, immz, wide);
    }
    if (length < 0 || i + length > code.length) {
      return undecodable();
    }
    return new Insn(i + length - start, opcode, rep, opsize, adsize, segment);
  }

  private static Insn undecodable() {
    return new Insn(-1, -1, false, false, false, -1);
  }

  private static int operands(
      byte[] code, int at, byte what, int op, int asize, int immz, boolean wide) {
    int n = 0;
    if ((what & M) != 0) {
      if (at >= code.length) {
        return -1;
      }
      n = modrm(code, at, asize);
      int reg = (code[at] >> 3) & 7;
      if (op == 0xf6 && reg < 2) {
        n += 1;
      } else if (op == 0xf7 && reg < 2) {
        n += immz;
      }
    }
    if ((what & I8) != 0) {
      n += 1;
    }
    if ((what & IZ) != 0) {
      n += immz;
    }
    if ((what & IV) != 0) {
      n += wide ? 8 : immz;
    }
    if ((what & I16) != 0) {
      n += 2;
    }
    if ((what & MOFFS) != 0) {
      n += asize;
    }
    if ((what & PTR) != 0) {
      n += 2 + immz;
    }
    return n;
  }

  private static int twoByte(byte[] code, int at, int op2, int asize, int immz) {
    if (op2 == 0x38 || op2 == 0x3a) {
      return at + 1 < code.length ? 1 + modrm(code, at + 1, asize) + (op2 == 0x3a ? 1 : 0) : -1;
    }
    if (op2 >= 0x80 && op2 <= 0x8f) {
      return immz; // jcc rel16/32
    }
    if ((op2 >= 0x05 && op2 <= 0x09)
        || op2 == 0x0b
        || op2 == 0x0e
        || (op2 >= 0x30 && op2 <= 0x37)
        || op2 == 0x77
        || op2 == 0xa0
        || op2 == 0xa1
        || op2 == 0xa2
        || op2 == 0xa8
        || op2 == 0xa9
        || op2 == 0xaa
        || (op2 >= 0xc8 && op2 <= 0xcf)) {
      return 0;
    }
    if (at >= code.length) {
      return -1;
    }
    int n = modrm(code, at, asize);
    if ((op2 >= 0x70 && op2 <= 0x73)
        || op2 == 0xa4
        || op2 == 0xac
        || op2 == 0xba
        || op2 == 0xc2
        || op2 == 0xc4
        || op2 == 0xc5
        || op2 == 0xc6
        || op2 == 0x0f) {
      n += 1;
    }
    return n;
  }

  /** VEX (c4/c5) or EVEX (62): the payload, the opcode, ModRM, and imm8 in map 3. */
  private static int vex(byte[] code, int at, int op, int asize) {
    int payload = op == 0xc5 ? 1 : op == 0xc4 ? 2 : 3;
    if (at + payload >= code.length) {
      return -1;
    }
    int map = op == 0xc5 ? 1 : code[at] & (op == 0x62 ? 0x07 : 0x1f);
    if (map == 1 && (code[at + payload] & 0xff) == 0x77) {
      return payload + 1; // vzeroupper, vzeroall: no ModRM
    }
    if (at + payload + 1 >= code.length) {
      return -1;
    }
    int n = payload + 1 + modrm(code, at + payload + 1, asize);
    return map == 3 ? n + 1 : n;
  }

  /** ModRM and what it implies: SIB and displacement. */
  private static int modrm(byte[] code, int at, int asize) {
    int m = code[at] & 0xff;
    int mod = m >> 6;
    int rm = m & 7;
    if (mod == 3) {
      return 1;
    }
    if (asize == 2) {
      return 1 + (mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0);
    }
    int n = 1;
    if (rm == 4) {
      n++;
      if (mod == 0 && at + 1 < code.length && (code[at + 1] & 7) == 5) {
        n += 4;
      }
    }
    return n + (mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 5) ? 4 : 0);
  }
}
