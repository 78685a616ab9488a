package dev.toykvm.devices.nvme;

/**
 * Get Features and Set Features (NVMe 1.4, "Feature Values"): the features a controller must have
 * and a few optional ones, each kept as its current value and reset with the controller. Nothing is
 * saveable: Set Features with Save is Feature Identifier Not Saveable; Get Features' Select field
 * is not supported (ONCS bit 4 is 0) and every read returns the current value. An unknown feature
 * is Invalid Field in Command.
 *
 * <ul>
 *   <li>01h Arbitration, 08h Interrupt Coalescing, 0Ah Write Atomicity Normal, 0Bh Asynchronous
 *       Event Configuration: stored and read back; they change nothing here (one arbitration
 *       policy, an interrupt per batch of completions, every write atomic per command).
 *   <li>02h Power Management: power state 0 only.
 *   <li>04h Temperature Threshold: the composite sensor's over and under thresholds.
 *   <li>05h Error Recovery: the time limit is stored; DULBE is not supported.
 *   <li>06h Volatile Write Cache: with WCE off, every write is made durable before it completes.
 *   <li>07h Number of Queues: always the configured count; Command Sequence Error once an I/O queue
 *       exists.
 *   <li>09h Interrupt Vector Configuration: per vector, stored.
 * </ul>
 */
final class Features {
  static final int ARBITRATION = 0x01;
  static final int POWER_MANAGEMENT = 0x02;
  static final int TEMPERATURE_THRESHOLD = 0x04;
  static final int ERROR_RECOVERY = 0x05;
  static final int VOLATILE_WRITE_CACHE = 0x06;
  static final int NUMBER_OF_QUEUES = 0x07;
  static final int INTERRUPT_COALESCING = 0x08;
  static final int INTERRUPT_VECTOR_CONFIG = 0x09;
  static final int WRITE_ATOMICITY = 0x0a;
  static final int ASYNC_EVENT_CONFIG = 0x0b;

  private final NvmeConfig config;
  private int arbitration;
  private int overThreshold;
  private int underThreshold;
  private int errorRecovery;
  private boolean writeCache;
  private int coalescing;
  private int writeAtomicity;
  private int asyncEventConfig;
  private final boolean[] coalescingDisabled;

  Features(NvmeConfig config) {
    this.config = config;
    coalescingDisabled = new boolean[config.vectors()];
    reset();
  }

  /** The defaults, as after a controller reset. */
  void reset() {
    arbitration = 0;
    overThreshold = Identify.WCTEMP;
    underThreshold = 0;
    errorRecovery = 0;
    writeCache = true;
    coalescing = 0;
    writeAtomicity = 0;
    asyncEventConfig = 0;
    java.util.Arrays.fill(coalescingDisabled, false);
  }

  /** Whether the volatile write cache is on (writes may wait for a Flush to be durable). */
  boolean writeCache() {
    return writeCache;
  }

  /** Get Features (opcode 0Ah). */
  Completion get(Command c) {
    int fid = c.cdw10() & 0xff;
    return switch (fid) {
      case ARBITRATION -> Completion.success(arbitration);
      case POWER_MANAGEMENT -> Completion.success(0);
      case TEMPERATURE_THRESHOLD -> {
        int status = checkSensor(c.cdw11(), false);
        if (status != NvmeStatus.SUCCESS) {
          yield Completion.status(status);
        }
        boolean under = ((c.cdw11() >>> 20) & 3) == 1;
        yield Completion.success(under ? underThreshold : overThreshold);
      }
      case ERROR_RECOVERY -> Completion.success(errorRecovery);
      case VOLATILE_WRITE_CACHE -> Completion.success(writeCache ? 1 : 0);
      case NUMBER_OF_QUEUES -> Completion.success(queuesAllocated());
      case INTERRUPT_COALESCING -> Completion.success(coalescing);
      case INTERRUPT_VECTOR_CONFIG -> {
        int iv = c.cdw11() & 0xffff;
        yield iv < config.vectors()
            ? Completion.success(iv | (coalescingDisabled[iv] ? 1 << 16 : 0))
            : Completion.status(NvmeStatus.INVALID_FIELD);
      }
      case WRITE_ATOMICITY -> Completion.success(writeAtomicity);
      case ASYNC_EVENT_CONFIG -> Completion.success(asyncEventConfig);
      default -> Completion.status(NvmeStatus.INVALID_FIELD);
    };
  }

  /** Set Features (opcode 09h); {@code ioQueuesExist} for Number of Queues' sequence rule. */
  Completion set(Command c, boolean ioQueuesExist) {
    int fid = c.cdw10() & 0xff;
    int v = c.cdw11();
    if (c.cdw10() < 0) { // SV, bit 31
      return Completion.status(NvmeStatus.FEATURE_NOT_SAVEABLE);
    }
    switch (fid) {
      case ARBITRATION -> arbitration = v;
      case POWER_MANAGEMENT -> {
        if ((v & 0x1f) != 0) {
          return Completion.status(NvmeStatus.INVALID_FIELD);
        }
      }
      case TEMPERATURE_THRESHOLD -> {
        int status = checkSensor(v, true);
        if (status != NvmeStatus.SUCCESS) {
          return Completion.status(status);
        }
        if (((v >>> 20) & 3) == 1) {
          underThreshold = v & 0xffff;
        } else {
          overThreshold = v & 0xffff;
        }
      }
      case ERROR_RECOVERY -> {
        if ((v & 1 << 16) != 0) { // DULBE
          return Completion.status(NvmeStatus.INVALID_FIELD);
        }
        errorRecovery = v & 0xffff;
      }
      case VOLATILE_WRITE_CACHE -> writeCache = (v & 1) != 0;
      case NUMBER_OF_QUEUES -> {
        if (ioQueuesExist) {
          return Completion.status(NvmeStatus.COMMAND_SEQUENCE_ERROR);
        }
        if ((v & 0xffff) == 0xffff || v >>> 16 == 0xffff) {
          return Completion.status(NvmeStatus.INVALID_FIELD);
        }
        return Completion.success(queuesAllocated());
      }
      case INTERRUPT_COALESCING -> coalescing = v & 0xffff;
      case INTERRUPT_VECTOR_CONFIG -> {
        int iv = v & 0xffff;
        if (iv >= config.vectors()) {
          return Completion.status(NvmeStatus.INVALID_FIELD);
        }
        coalescingDisabled[iv] = (v & 1 << 16) != 0;
      }
      case WRITE_ATOMICITY -> writeAtomicity = v & 1;
      case ASYNC_EVENT_CONFIG -> asyncEventConfig = v;
      default -> {
        return Completion.status(NvmeStatus.INVALID_FIELD);
      }
    }
    return Completion.SUCCESS;
  }

  /** Number of Queues' dword 0: submission and completion queues allocated, zero-based. */
  private int queuesAllocated() {
    int n = config.ioQueues() - 1;
    return n | n << 16;
  }

  /** Only the composite temperature (TMPSEL 0; 0Fh, every sensor, for Set) exists. */
  private static int checkSensor(int cdw11, boolean set) {
    int sensor = (cdw11 >>> 16) & 0xf;
    int kind = (cdw11 >>> 20) & 3;
    if (kind > 1 || !(sensor == 0 || (set && sensor == 0xf))) {
      return NvmeStatus.INVALID_FIELD;
    }
    return NvmeStatus.SUCCESS;
  }
}
