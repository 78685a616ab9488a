package dev.toykvm.vmm.boot;

/**
 * A kernel file that cannot be booted the way it says it wants: the message says what is wrong
 * ("not an ELF file", "no multiboot header in the first 8 KiB", "segment [..) outside RAM", ...),
 * without the file name, which the caller adds.
 */
public final class BootFormatException extends RuntimeException {
  public BootFormatException(String why) {
    super(why);
  }
}
