package dev.toykvm.devices.nvme;

/**
 * The admin command set (NVMe 1.4, "Admin Command Set"): the queue commands, Identify, Get and Set
 * Features, Get Log Page, Abort and Asynchronous Event Request. Anything else, and the optional
 * commands (firmware, namespace management, format, ...), is Invalid Command Opcode.
 */
final class AdminCommands {
  static final int DELETE_IO_SQ = 0x00;
  static final int CREATE_IO_SQ = 0x01;
  static final int GET_LOG_PAGE = 0x02;
  static final int DELETE_IO_CQ = 0x04;
  static final int CREATE_IO_CQ = 0x05;
  static final int IDENTIFY = 0x06;
  static final int ABORT = 0x08;
  static final int SET_FEATURES = 0x09;
  static final int GET_FEATURES = 0x0a;
  static final int ASYNC_EVENT_REQUEST = 0x0c;

  static final int CNS_NAMESPACE = 0x00;
  static final int CNS_CONTROLLER = 0x01;
  static final int CNS_ACTIVE_NAMESPACES = 0x02;
  static final int CNS_DESCRIPTORS = 0x03;
  static final int CNS_CS_CONTROLLER = 0x06;

  private final NvmeConfig config;
  private final NvmeDisk disk;
  private final Dma dma;
  private final QueueTable queues;
  private final Features features;
  private final AsyncEvents events;
  private final IoCounters counters;
  private final ErrorLog errors;

  AdminCommands(
      NvmeConfig config,
      NvmeDisk disk,
      Dma dma,
      QueueTable queues,
      Features features,
      AsyncEvents events,
      IoCounters counters,
      ErrorLog errors) {
    this.errors = errors;
    this.config = config;
    this.disk = disk;
    this.dma = dma;
    this.queues = queues;
    this.features = features;
    this.events = events;
    this.counters = counters;
  }

  /** Runs {@code c}; {@code null} if it completes later (an Asynchronous Event Request). */
  Completion execute(Command c) {
    if (c.fuse() != 0 || c.psdt() != 0) { // no fused operations, no SGLs
      return Completion.status(NvmeStatus.INVALID_FIELD);
    }
    return switch (c.opcode()) {
      case DELETE_IO_SQ -> queues.deleteSq(c);
      case CREATE_IO_SQ -> queues.createSq(c);
      case GET_LOG_PAGE -> getLogPage(c);
      case DELETE_IO_CQ -> queues.deleteCq(c);
      case CREATE_IO_CQ -> queues.createCq(c);
      case IDENTIFY -> identify(c);
      case ABORT -> Completion.success(1); // bit 0: not aborted (commands run when fetched)
      case SET_FEATURES -> features.set(c, queues.anyIoQueue());
      case GET_FEATURES -> features.get(c);
      case ASYNC_EVENT_REQUEST -> events.request(c.cid());
      default -> Completion.status(NvmeStatus.INVALID_OPCODE);
    };
  }

  /**
   * Identify: CNS 00h-03h, and CNS 06h for the NVM command set (CSI 0 in dword 11 bits 31:24: the
   * I/O command set specific controller structure of NVMe 2.0, which Linux asks a 1.4 controller
   * for; all zeros, no limits). Another CNS or CSI is Invalid Field; an NSID that does not fit the
   * CNS is Invalid Namespace or Format.
   */
  private Completion identify(Command c) {
    int nsid = c.nsid();
    int cns = c.cdw10() & 0xff;
    boolean nvmSet = c.cdw11() >>> 24 == 0;
    if (!(cns <= CNS_DESCRIPTORS || (cns == CNS_CS_CONTROLLER && nvmSet))) {
      return Completion.status(NvmeStatus.INVALID_FIELD);
    }
    byte[] data =
        switch (cns) {
          case CNS_NAMESPACE -> nsid == 1 ? Identify.namespace(config, disk.blocks()) : null;
          case CNS_CONTROLLER -> Identify.controller(config);
          case CNS_ACTIVE_NAMESPACES ->
              Integer.compareUnsigned(nsid, 0xfffffffe) >= 0
                  ? null
                  : Identify.activeNamespaces(nsid);
          case CNS_DESCRIPTORS -> nsid == 1 ? Identify.descriptors(config) : null;
          default -> new byte[Identify.SIZE]; // CNS 06h, NVM
        };
    if (data == null) {
      return Completion.status(NvmeStatus.INVALID_NAMESPACE);
    }
    return Completion.status(toHost(c, data));
  }

  /**
   * Get Log Page: NUMD (dwords, zero-based, split over dwords 10 and 11) from offset LPO (dwords 12
   * and 13, dword aligned, inside the page); bytes past the page's end read as zeros.
   */
  private Completion getLogPage(Command c) {
    int lid = c.cdw10() & 0xff;
    boolean retain = (c.cdw10() & 1 << 15) != 0;
    long dwords = ((long) (c.cdw11() & 0xffff) << 16 | c.cdw10() >>> 16) + 1;
    long offset = Integer.toUnsignedLong(c.cdw12()) | (long) c.cdw13() << 32;
    byte[] page = LogPages.page(lid, counters, errors);
    if (page == null) {
      return Completion.status(NvmeStatus.INVALID_LOG_PAGE);
    }
    if (dwords * 4 > Identify.MAX_TRANSFER
        || (offset & 3) != 0
        || offset < 0
        || offset >= page.length) {
      return Completion.status(NvmeStatus.INVALID_FIELD);
    }
    byte[] data = new byte[(int) dwords * 4];
    System.arraycopy(
        page, (int) offset, data, 0, Math.min(data.length, page.length - (int) offset));
    int status = toHost(c, data);
    if (status == NvmeStatus.SUCCESS) {
      events.logRead(lid, retain);
    }
    return Completion.status(status);
  }

  private int toHost(Command c, byte[] data) {
    Prp prp = Prp.resolve(dma, c.prp1(), c.prp2(), data.length);
    return prp.status() != NvmeStatus.SUCCESS ? prp.status() : prp.toGuest(dma, data);
  }
}
