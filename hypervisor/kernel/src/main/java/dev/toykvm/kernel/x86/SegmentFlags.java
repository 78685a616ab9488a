package dev.toykvm.kernel.x86;

import dev.toykvm.kvm.KvmSegment;

/**
 * Converts between {@link KvmSegment} and the attribute word an x86 segment cache keeps (the
 * descriptor's high doubleword layout: type at bit 8, S 12, DPL 13-14, P 15, AVL 20, L 21, D/B 22,
 * G 23), which is how QEMU (inside Unicorn) stores hidden segment state.
 */
public final class SegmentFlags {
  private SegmentFlags() {}

  public static final int TYPE_SHIFT = 8;
  public static final int S = 1 << 12;
  public static final int DPL_SHIFT = 13;
  public static final int P = 1 << 15;
  public static final int AVL = 1 << 20;
  public static final int L = 1 << 21;
  public static final int DB = 1 << 22;
  public static final int G = 1 << 23;

  /** The attribute word of a segment; an unusable segment has none (as after a null load). */
  public static int encode(KvmSegment seg) {
    if (seg.unusable()) {
      return 0;
    }
    return (seg.type() & 0xf) << TYPE_SHIFT
        | (seg.s() ? S : 0)
        | (seg.dpl() & 3) << DPL_SHIFT
        | (seg.present() ? P : 0)
        | (seg.avl() ? AVL : 0)
        | (seg.l() ? L : 0)
        | (seg.db() ? DB : 0)
        | (seg.g() ? G : 0);
  }

  /** A {@link KvmSegment} from a segment cache's selector, base, limit and attribute word. */
  public static KvmSegment decode(int selector, long base, long limit, int flags) {
    boolean present = (flags & P) != 0;
    return new KvmSegment(
        base,
        limit,
        selector & 0xffff,
        (flags >> TYPE_SHIFT) & 0xf,
        present,
        (flags >> DPL_SHIFT) & 3,
        (flags & DB) != 0,
        (flags & S) != 0,
        (flags & L) != 0,
        (flags & G) != 0,
        (flags & AVL) != 0,
        !present);
  }
}
