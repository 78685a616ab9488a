package dev.toykvm.ioregionfd.channel;

/** How {@link IoregionAccess#run} ended. */
public enum AccessResult {
  /** Done; for a read, {@link IoregionAccess#value()} holds the data. */
  DONE,
  /** The vCPU was kicked; the access is saved and {@link IoregionAccess#run} resumes it. */
  INTERRUPTED,
  /** The device failed; {@link IoregionAccess#failure()} and {@code failureErrno()} say how. */
  FAILED
}
