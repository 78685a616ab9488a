package dev.toykvm.devices.nvme;

/**
 * A submission queue: a ring of {@code size} 64-byte entries at {@code base} in guest memory. The
 * host moves the tail with the queue's doorbell; the controller moves the head as it fetches.
 */
final class SubmissionQueue {
  final int id;
  final long base;
  final int size;
  final CompletionQueue cq;
  int head;
  int tail;

  SubmissionQueue(int id, long base, int size, CompletionQueue cq) {
    this.id = id;
    this.base = base;
    this.size = size;
    this.cq = cq;
  }

  boolean empty() {
    return head == tail;
  }

  long headAddress() {
    return base + (long) head * Command.SIZE;
  }

  void advance() {
    head = (head + 1) % size;
  }
}
