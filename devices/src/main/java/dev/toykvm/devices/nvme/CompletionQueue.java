package dev.toykvm.devices.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * A completion queue: a ring of {@code size} 16-byte entries at {@code base} in guest memory. The
 * controller moves the tail as it posts; the host moves the head with the queue's doorbell when it
 * has consumed entries. The phase tag starts at 1 and flips each time the tail wraps, so the host
 * tells new entries from old ones. One entry always stays free: the queue is full when the tail is
 * just behind the head.
 */
final class CompletionQueue {
  /** Bytes in a completion queue entry (CC.IOCQES = 4). */
  static final int ENTRY_SIZE = 16;

  /** An entry that must wait for room (an asynchronous completion while the queue was full). */
  record Waiting(int sqHead, int sqId, int cid, Completion completion) {}

  final int id;
  final long base;
  final int size;
  final boolean interruptsEnabled;
  final int vector;
  int head;
  int tail;
  boolean phase = true;

  /** Completions that could not be posted because the queue was full, in order. */
  final ArrayDeque<Waiting> waiting = new ArrayDeque<>();

  /** Entries were posted since the last interrupt was sent. */
  boolean notify;

  CompletionQueue(int id, long base, int size, boolean interruptsEnabled, int vector) {
    this.id = id;
    this.base = base;
    this.size = size;
    this.interruptsEnabled = interruptsEnabled;
    this.vector = vector;
  }

  boolean full() {
    return (tail + 1) % size == head;
  }

  /** Entries posted that the host has not released with the head doorbell. */
  int unconsumed() {
    return Math.floorMod(tail - head, size);
  }

  /** Whether fetching a command that will complete here can go on. */
  boolean hasRoom() {
    return waiting.isEmpty() && !full();
  }

  /** The entry the tail points at, with the current phase. */
  byte[] entry(int sqHead, int sqId, int cid, Completion c) {
    return ByteBuffer.allocate(ENTRY_SIZE)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(c.dw0())
        .putInt(0)
        .putInt((sqHead & 0xffff) | sqId << 16)
        .putInt((cid & 0xffff) | (phase ? 1 << 16 : 0) | c.status() << 17)
        .array();
  }

  long tailAddress() {
    return base + (long) tail * ENTRY_SIZE;
  }

  void advance() {
    tail = (tail + 1) % size;
    if (tail == 0) {
      phase = !phase;
    }
  }
}
