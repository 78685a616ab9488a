package dev.toykvm.devices.nvme;

import java.util.ArrayDeque;

/**
 * Asynchronous Event Requests and the events that complete them (NVMe 1.4, "Asynchronous Event
 * Request command"). The host keeps up to AERL + 1 requests outstanding; they complete only when an
 * event happens (a controller may hold them forever). An event with no request outstanding waits
 * for one. Once an event of a type has been reported, further events of that type are dropped until
 * the host reads the log page the event named with Retain Asynchronous Event cleared, as the
 * specification masks them.
 *
 * <p>The only events here are of type Error Status: a doorbell write to a queue that does not exist
 * (Write to Invalid Doorbell Register) or with a value the queue cannot take (Invalid Doorbell
 * Write Value), both pointing at the Error Information log.
 */
final class AsyncEvents {
  static final int TYPE_ERROR = 0;
  static final int INVALID_DOORBELL_REGISTER = 0x00;
  static final int INVALID_DOORBELL_VALUE = 0x01;

  /** Posts an Asynchronous Event Request's completion with command id {@code cid}. */
  interface Completer {
    void complete(int cid, int dw0);
  }

  private final Completer completer;
  private final ArrayDeque<Integer> requests = new ArrayDeque<>();
  private final ArrayDeque<Integer> events = new ArrayDeque<>();
  private final boolean[] masked = new boolean[8];

  AsyncEvents(Completer completer) {
    this.completer = completer;
  }

  /**
   * An Asynchronous Event Request with id {@code cid}: {@code null} if it is now outstanding (it
   * completes through the completer), or its failure if AERL + 1 are outstanding already.
   */
  Completion request(int cid) {
    if (requests.size() > Identify.AERL) {
      return Completion.status(NvmeStatus.ASYNC_EVENT_LIMIT_EXCEEDED);
    }
    requests.add(cid);
    deliver();
    return null;
  }

  /** An event of {@code type}; {@code false} if it is masked and dropped. */
  boolean raise(int type, int info, int logPage) {
    if (masked[type]) {
      return false;
    }
    masked[type] = true;
    events.add(type | info << 8 | logPage << 16);
    deliver();
    return true;
  }

  /** The host read log page {@code lid}; unless it retains the events, their type is unmasked. */
  void logRead(int lid, boolean retain) {
    if (!retain && lid == LogPages.ERROR_INFORMATION) {
      masked[TYPE_ERROR] = false;
    }
  }

  /** Outstanding requests. */
  int outstanding() {
    return requests.size();
  }

  /** Controller reset: requests and events are dropped. */
  void reset() {
    requests.clear();
    events.clear();
    java.util.Arrays.fill(masked, false);
  }

  private void deliver() {
    while (!requests.isEmpty() && !events.isEmpty()) {
      completer.complete(requests.poll(), events.poll());
    }
  }
}
