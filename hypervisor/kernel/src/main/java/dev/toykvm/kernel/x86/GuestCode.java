package dev.toykvm.kernel.x86;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmSregs;
import java.io.ByteArrayOutputStream;

/**
 * The guest's code as the kernel side reads it for itself: linear addresses through the guest's
 * segments and paging ({@link Linear}), quietly (what is not RAM ends the bytes, nothing throws).
 */
public final class GuestCode {
  private GuestCode() {}

  /** Whether the CPU runs 64-bit code (long mode and a CS with L set). */
  public static boolean longMode(KvmSregs s) {
    return (s.efer() & KvmConstants.EFER_LMA) != 0 && s.cs().l();
  }

  /** The linear address of {@code rip}: CS's base applies outside 64-bit code. */
  public static long linearRip(KvmSregs s, long rip) {
    return longMode(s) ? rip : (s.cs().base() + rip) & 0xffff_ffffL;
  }

  /** {@code length} bytes at {@code linear} if they are mapped and in one RAM slot, else null. */
  public static byte[] read(GuestCpu cpu, KvmSregs s, long linear, int length) {
    try {
      long phys = Linear.toPhysical(cpu, s, linear);
      return phys < 0 ? null : cpu.readPhysical(phys, length);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Up to {@code length} bytes from {@code linear}, page by page, as far as they are in RAM. */
  public static byte[] readUpTo(GuestCpu cpu, KvmSregs s, long linear, int length) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(length);
    long at = linear;
    while (out.size() < length) {
      int chunk = (int) Math.min(length - out.size(), 4096 - (at & 4095));
      byte[] bytes = read(cpu, s, at, chunk);
      if (bytes == null) {
        break;
      }
      out.writeBytes(bytes);
      at += chunk;
    }
    return out.toByteArray();
  }

  /**
   * Whether an interrupt Unicorn reports at {@code rip} came from {@code int n}/{@code int3}/{@code
   * into}: RIP then already points past the instruction, whose bytes end there.
   */
  public static boolean isSoftwareInterrupt(GuestCpu cpu, KvmSregs s, long rip, int vector) {
    byte[] two = read(cpu, s, s.cs().base() + rip - 2, 2);
    if (two == null) {
      return false;
    }
    return ((two[0] & 0xff) == 0xcd && (two[1] & 0xff) == vector)
        || (vector == 3 && (two[1] & 0xff) == 0xcc)
        || (vector == 4 && (two[1] & 0xff) == 0xce);
  }

  /**
   * Whether the byte before {@code rip} is a {@code hlt} (0xf4): after a {@code hlt} Unicorn
   * returns normally with RIP past it. A prefixed {@code hlt} (meaningless, but legal) still ends
   * in 0xf4.
   */
  public static boolean hltBefore(GuestCpu cpu, KvmSregs s, long rip) {
    byte[] one = read(cpu, s, linearRip(s, rip - 1), 1);
    return one != null && (one[0] & 0xff) == 0xf4;
  }
}
