package dev.toykvm.devices.nvme;

/**
 * The controller's queues by identifier (0 is the admin pair, 1 to {@code ioQueues} the I/O ones),
 * and the admin commands that create and delete the I/O queues (NVMe 1.4, "Create I/O Completion
 * Queue" and the three others). Queues must be physically contiguous (CAP.CQR = 1): PC = 0 is
 * Invalid Field in Command.
 */
final class QueueTable {
  /** CAP.MQES, zero-based: I/O queues of up to 1024 entries. */
  static final int MQES = 1023;

  /** The admin queues' largest size (AQA's 12-bit fields, zero-based). */
  static final int ADMIN_MAX_ENTRIES = 4096;

  private final int ioQueues;
  private final int vectors;
  private final SubmissionQueue[] sqs;
  private final CompletionQueue[] cqs;

  QueueTable(NvmeConfig config) {
    ioQueues = config.ioQueues();
    vectors = config.vectors();
    sqs = new SubmissionQueue[ioQueues + 1];
    cqs = new CompletionQueue[ioQueues + 1];
  }

  /** The submission queue {@code id}, or {@code null} if there is none. */
  SubmissionQueue sq(int id) {
    return id >= 0 && id < sqs.length ? sqs[id] : null;
  }

  /** The completion queue {@code id}, or {@code null} if there is none. */
  CompletionQueue cq(int id) {
    return id >= 0 && id < cqs.length ? cqs[id] : null;
  }

  /** Highest queue identifier there can be. */
  int maxId() {
    return ioQueues;
  }

  /** Makes the admin pair (at enable): the admin completion queue interrupts on vector 0. */
  void createAdmin(long asq, int sqEntries, long acq, int cqEntries) {
    cqs[0] = new CompletionQueue(0, acq, cqEntries, true, 0);
    sqs[0] = new SubmissionQueue(0, asq, sqEntries, cqs[0]);
  }

  /** Deletes every queue (controller reset). */
  void clear() {
    java.util.Arrays.fill(sqs, null);
    java.util.Arrays.fill(cqs, null);
  }

  /** Whether any I/O queue exists. */
  boolean anyIoQueue() {
    for (int i = 1; i <= ioQueues; i++) {
      if (sqs[i] != null || cqs[i] != null) {
        return true;
      }
    }
    return false;
  }

  /** Create I/O Completion Queue (opcode 05h). */
  Completion createCq(Command c) {
    int qid = c.cdw10() & 0xffff;
    int entries = (c.cdw10() >>> 16) + 1;
    boolean contiguous = (c.cdw11() & 1) != 0;
    boolean ien = (c.cdw11() & 2) != 0;
    int vector = c.cdw11() >>> 16;
    if (qid == 0 || qid > ioQueues || cqs[qid] != null) {
      return Completion.status(NvmeStatus.INVALID_QUEUE_IDENTIFIER);
    }
    int status = checkQueue(entries, contiguous, c.prp1());
    if (status != NvmeStatus.SUCCESS) {
      return Completion.status(status);
    }
    if (vector >= vectors) {
      return Completion.status(NvmeStatus.INVALID_INTERRUPT_VECTOR);
    }
    cqs[qid] = new CompletionQueue(qid, c.prp1(), entries, ien, vector);
    return Completion.SUCCESS;
  }

  /** Create I/O Submission Queue (opcode 01h); the priority (QPRIO) is ignored: round robin. */
  Completion createSq(Command c) {
    int qid = c.cdw10() & 0xffff;
    int entries = (c.cdw10() >>> 16) + 1;
    boolean contiguous = (c.cdw11() & 1) != 0;
    int cqid = c.cdw11() >>> 16;
    if (qid == 0 || qid > ioQueues || sqs[qid] != null) {
      return Completion.status(NvmeStatus.INVALID_QUEUE_IDENTIFIER);
    }
    if (cqid == 0 || cqid > ioQueues || cqs[cqid] == null) {
      return Completion.status(NvmeStatus.COMPLETION_QUEUE_INVALID);
    }
    int status = checkQueue(entries, contiguous, c.prp1());
    if (status != NvmeStatus.SUCCESS) {
      return Completion.status(status);
    }
    sqs[qid] = new SubmissionQueue(qid, c.prp1(), entries, cqs[cqid]);
    return Completion.SUCCESS;
  }

  /** Delete I/O Submission Queue (opcode 00h). Nothing is in flight: commands run at fetch. */
  Completion deleteSq(Command c) {
    int qid = c.cdw10() & 0xffff;
    if (qid == 0 || qid > ioQueues || sqs[qid] == null) {
      return Completion.status(NvmeStatus.INVALID_QUEUE_IDENTIFIER);
    }
    sqs[qid] = null;
    return Completion.SUCCESS;
  }

  /** Delete I/O Completion Queue (opcode 04h): refused while a submission queue uses it. */
  Completion deleteCq(Command c) {
    int qid = c.cdw10() & 0xffff;
    if (qid == 0 || qid > ioQueues || cqs[qid] == null) {
      return Completion.status(NvmeStatus.INVALID_QUEUE_IDENTIFIER);
    }
    for (SubmissionQueue sq : sqs) {
      if (sq != null && sq.cq == cqs[qid]) {
        return Completion.status(NvmeStatus.INVALID_QUEUE_DELETION);
      }
    }
    cqs[qid] = null;
    return Completion.SUCCESS;
  }

  private static int checkQueue(int entries, boolean contiguous, long base) {
    if (entries < 2 || entries > MQES + 1) {
      return NvmeStatus.INVALID_QUEUE_SIZE;
    }
    if (!contiguous) {
      return NvmeStatus.INVALID_FIELD;
    }
    if ((base & (Prp.PAGE - 1)) != 0) {
      return NvmeStatus.INVALID_PRP_OFFSET;
    }
    return NvmeStatus.SUCCESS;
  }
}
