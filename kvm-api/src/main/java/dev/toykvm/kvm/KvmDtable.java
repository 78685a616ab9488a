package dev.toykvm.kvm;

/** {@code struct kvm_dtable}: a descriptor-table register (GDTR or IDTR). */
public record KvmDtable(long base, int limit) {}
