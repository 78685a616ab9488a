package dev.toykvm.kvm;

/**
 * {@code struct kvm_dtable}: a descriptor-table register (GDTR or IDTR).
 *
 * @param base linear base address of the table
 * @param limit the table's size in bytes minus one
 */
public record KvmDtable(long base, int limit) {

  /** A copy with another {@code base}: sets {@code base}. */
  public KvmDtable withBase(long value) {
    return new KvmDtable(value, limit);
  }

  /** A copy with another {@code limit}: sets {@code limit}. */
  public KvmDtable withLimit(int value) {
    return new KvmDtable(base, value);
  }
}
