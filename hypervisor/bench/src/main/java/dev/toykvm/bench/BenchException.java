package dev.toykvm.bench;

/** A benchmark run that could not measure what it set out to; the message says which and why. */
final class BenchException extends RuntimeException {
  BenchException(String message) {
    super(message);
  }
}
