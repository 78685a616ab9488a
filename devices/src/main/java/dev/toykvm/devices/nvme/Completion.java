package dev.toykvm.devices.nvme;

/**
 * What a command completes with, before the controller adds the queue's fields: dword 0 (command
 * specific) and the {@link NvmeStatus} status field.
 */
record Completion(int dw0, int status) {
  static final Completion SUCCESS = new Completion(0, NvmeStatus.SUCCESS);

  static Completion status(int status) {
    return new Completion(0, status);
  }

  static Completion success(int dw0) {
    return new Completion(dw0, NvmeStatus.SUCCESS);
  }
}
