package dev.toykvm.vmm;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.ioregionfd.DeviceProcess.NoResponseException;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionResponse;
import dev.toykvm.posix.PosixException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The old route, as QEMU's multi-process proxy does it: the access exits to the VMM, which forwards
 * it to the device process over the device's own pipes and waits for the answer (reads and writes
 * both wait). The same device process, the same wire protocol and the same {@code user_data} as
 * ioregionfd; only the hop through the VMM differs.
 *
 * <p>It fails as the ioregionfd route fails, with the same errno: a device that does not answer
 * within the device timeout ({@code EAGAIN}) or closes its pipes ({@code EIO}). The failed access
 * reads all-ones, every later one too, and {@link #failure()} says what happened: the run loop ends
 * the VM with it, as it ends it on {@code KVM_EXIT_IOREGIONFD_FAILURE}. A wait also ends when the
 * VMM's wake eventfd is signalled ({@code --timeout}), which is not a failure of the device.
 *
 * <p>As the RFC, it ignores a write response's {@code data} and any padding (padding is logged at
 * debug level, once).
 *
 * <p>Used from the VMM thread only.
 */
final class RemoteDevice implements BusDevice {
  private static final Logger log = LoggerFactory.getLogger(RemoteDevice.class);

  /** What went wrong, in the terms of {@code KVM_EXIT_IOREGIONFD_FAILURE}. */
  record Failure(String errno, boolean write, long address, String description) {}

  private final DeviceSpec spec;
  private final long userData;
  private final DeviceProcess process;
  private final Duration timeout;
  private final int wakeFd;
  private Failure failure;
  private boolean paddingSaid;

  /**
   * @param userData the {@code user_data} of every command, as the ioregionfd route would send it
   * @param timeout how long one access may wait for its response
   * @param wakeFd an eventfd that ends any wait when signalled, or -1
   */
  RemoteDevice(
      DeviceSpec spec, long userData, DeviceProcess process, Duration timeout, int wakeFd) {
    this.spec = spec;
    this.userData = userData;
    this.process = process;
    this.timeout = timeout;
    this.wakeFd = wakeFd;
  }

  @Override
  public long read(long offset, int size) {
    Optional<MemorySegment> r = access(IoregionCommand.read(userData, offset, size), offset);
    return r.map(raw -> raw.get(DeviceProcess.RESPONSE_DATA, 0) & IoregionCommand.mask(size))
        .orElse(IoregionCommand.mask(size));
  }

  @Override
  public void write(long offset, int size, long value) {
    access(IoregionCommand.write(userData, offset, size, value, true), offset);
  }

  /** The first failure, if the device failed. */
  Optional<Failure> failure() {
    return Optional.ofNullable(failure);
  }

  /** Sends the command and waits for its response; empty if there is none. */
  private Optional<MemorySegment> access(IoregionCommand cmd, long offset) {
    if (failure != null) {
      return Optional.empty();
    }
    boolean write = cmd.op() == IoregionCommand.Op.WRITE;
    try {
      process.send(cmd);
      MemorySegment raw = process.awaitRawResponse(timeout, wakeFd);
      checkPadding(raw);
      return Optional.of(raw);
    } catch (NoResponseException e) {
      switch (e.reason()) {
        case TIMED_OUT ->
            failed(
                "EAGAIN",
                write,
                offset,
                "waited " + timeout.toMillis() + " ms for the response (the device stalls)");
        case EOF -> failed("EIO", write, offset, "the device closed its response pipe (EOF)");
        case WOKEN -> log.debug("device {}: a wait was woken up (the VM is stopping)", spec.name());
      }
    } catch (PosixException e) {
      failed("EIO", write, offset, "cannot send the command: " + e.getMessage());
    }
    return Optional.empty();
  }

  private void checkPadding(MemorySegment raw) {
    for (int i = 8; i < IoregionResponse.BYTES; i++) {
      if (raw.get(ValueLayout.JAVA_BYTE, i) != 0) {
        if (!paddingSaid) {
          paddingSaid = true;
          log.debug(
              "device {}: a response's padding is not zero (byte {}); ignored, as the RFC"
                  + " ignores it (said once)",
              spec.name(),
              i);
        }
        return;
      }
    }
  }

  private void failed(String errno, boolean write, long offset, String description) {
    failure = new Failure(errno, write, spec.base() + offset, description);
    log.debug("device {} failed (route vmm): {} {}", spec.name(), errno, description);
  }
}
