package dev.toykvm.kvm;

/**
 * {@code struct kvm_segment}: a segment register with its hidden (descriptor cache) state.
 *
 * @param base linear base address
 * @param limit byte-granular limit (already scaled if {@code g} is set, as KVM reports it)
 * @param selector the visible selector
 * @param type the descriptor's 4-bit type field
 * @param present the P bit
 * @param dpl descriptor privilege level, 0..3
 * @param db the D/B bit (32-bit default operand size)
 * @param s the S bit (code/data rather than system)
 * @param l the L bit (64-bit code segment)
 * @param g the G bit (4 KiB granularity)
 * @param avl the AVL bit
 * @param unusable the segment is unusable (a null selector was loaded)
 */
public record KvmSegment(
    long base,
    long limit,
    int selector,
    int type,
    boolean present,
    int dpl,
    boolean db,
    boolean s,
    boolean l,
    boolean g,
    boolean avl,
    boolean unusable) {

  /** Data segment types: read/write, accessed. */
  public static final int TYPE_DATA_RW_ACCESSED = 0x3;

  /** Code segment types: execute/read, accessed. */
  public static final int TYPE_CODE_XR_ACCESSED = 0xb;

  /**
   * All fields zero or false, as {@code struct kvm_segment seg = {0}} in C: the starting point for
   * a segment built from designated initializers.
   *
   * {@snippet :
   * // struct kvm_segment seg = { .limit = 0xffffffff, .selector = 1 << 3, .present = 1,
   * //                            .type = 11, .db = 1, .s = 1, .g = 1 };
   * KvmSegment seg = KvmSegment.ZERO.withLimit(0xffff_ffffL).withSelector(1 << 3).withPresent(true)
   *     .withType(11).withDb(true).withS(true).withG(true);
   * }
   */
  public static final KvmSegment ZERO =
      new KvmSegment(0, 0, 0, 0, false, 0, false, false, false, false, false, false);

  /** A real-mode segment as a far jump or a {@code mov} in real mode loads it. */
  public static KvmSegment realMode(int selector, boolean code) {
    return new KvmSegment(
        ((long) selector & 0xffff) << 4,
        0xffff,
        selector & 0xffff,
        code ? TYPE_CODE_XR_ACCESSED : TYPE_DATA_RW_ACCESSED,
        true,
        0,
        false,
        true,
        false,
        false,
        false,
        false);
  }

  /** A flat 4 GiB 32-bit protected-mode segment at ring 0. */
  public static KvmSegment flat32(int selector, boolean code) {
    return new KvmSegment(
        0,
        0xffff_ffffL,
        selector,
        code ? TYPE_CODE_XR_ACCESSED : TYPE_DATA_RW_ACCESSED,
        true,
        0,
        true,
        true,
        false,
        true,
        false,
        false);
  }

  /** A 64-bit ring-0 code segment (L=1), or a flat data segment for use in long mode. */
  public static KvmSegment long64(int selector, boolean code) {
    return new KvmSegment(
        0,
        0xffff_ffffL,
        selector,
        code ? TYPE_CODE_XR_ACCESSED : TYPE_DATA_RW_ACCESSED,
        true,
        0,
        !code,
        true,
        code,
        true,
        false,
        false);
  }

  /** A copy that sets {@code base} (real-mode code may use any base, e.g. the reset CS). */
  public KvmSegment withBase(long newBase) {
    return new KvmSegment(newBase, limit, selector, type, present, dpl, db, s, l, g, avl, unusable);
  }

  /** A copy that sets {@code limit} (byte-granular, as KVM takes it). */
  public KvmSegment withLimit(long newLimit) {
    return new KvmSegment(base, newLimit, selector, type, present, dpl, db, s, l, g, avl, unusable);
  }

  /** A copy that sets {@code selector}. */
  public KvmSegment withSelector(int newSelector) {
    return new KvmSegment(base, limit, newSelector, type, present, dpl, db, s, l, g, avl, unusable);
  }

  /** A copy that sets {@code type} (the descriptor's 4-bit type field). */
  public KvmSegment withType(int newType) {
    return new KvmSegment(base, limit, selector, newType, present, dpl, db, s, l, g, avl, unusable);
  }

  /** A copy that sets {@code present} (the P bit). */
  public KvmSegment withPresent(boolean newPresent) {
    return new KvmSegment(base, limit, selector, type, newPresent, dpl, db, s, l, g, avl, unusable);
  }

  /** A copy that sets {@code dpl} (descriptor privilege level, 0..3). */
  public KvmSegment withDpl(int newDpl) {
    return new KvmSegment(base, limit, selector, type, present, newDpl, db, s, l, g, avl, unusable);
  }

  /** A copy that sets {@code db} (the D/B bit). */
  public KvmSegment withDb(boolean newDb) {
    return new KvmSegment(base, limit, selector, type, present, dpl, newDb, s, l, g, avl, unusable);
  }

  /** A copy that sets {@code s} (the S bit: code/data rather than system). */
  public KvmSegment withS(boolean newS) {
    return new KvmSegment(base, limit, selector, type, present, dpl, db, newS, l, g, avl, unusable);
  }

  /** A copy that sets {@code l} (the L bit: 64-bit code). */
  public KvmSegment withL(boolean newL) {
    return new KvmSegment(base, limit, selector, type, present, dpl, db, s, newL, g, avl, unusable);
  }

  /** A copy that sets {@code g} (the G bit: 4 KiB granularity). */
  public KvmSegment withG(boolean newG) {
    return new KvmSegment(base, limit, selector, type, present, dpl, db, s, l, newG, avl, unusable);
  }

  /** A copy that sets {@code avl} (the AVL bit). */
  public KvmSegment withAvl(boolean newAvl) {
    return new KvmSegment(base, limit, selector, type, present, dpl, db, s, l, g, newAvl, unusable);
  }

  /** A copy that sets {@code unusable}. */
  public KvmSegment withUnusable(boolean newUnusable) {
    return new KvmSegment(base, limit, selector, type, present, dpl, db, s, l, g, avl, newUnusable);
  }
}
