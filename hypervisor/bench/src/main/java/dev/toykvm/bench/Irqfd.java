package dev.toykvm.bench;

import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;

/**
 * The eventfds of one irqfd of a latency row: the irqfd itself and, for a level line, its
 * resamplefd; registered on GSI {@value LatencyGuest#GSI}.
 *
 * @param fd the irqfd
 * @param resampleFd its resamplefd, or -1 for an edge line
 */
record Irqfd(int fd, int resampleFd) implements AutoCloseable {

  /** Makes the eventfds: a resamplefd too if {@code level}. Nothing is left if it fails. */
  static Irqfd create(boolean level) {
    int fd = Eventfd.create();
    if (!level) {
      return new Irqfd(fd, -1);
    }
    try {
      return new Irqfd(fd, Eventfd.create());
    } catch (RuntimeException e) {
      Fds.close(fd);
      throw e;
    }
  }

  /** Whether it is a level line (with a resamplefd). */
  boolean level() {
    return resampleFd >= 0;
  }

  /** {@code KVM_IRQFD} on GSI {@value LatencyGuest#GSI}, with resample for a level line. */
  void register(VmFd vm) {
    KvmIrqfd irqfd = KvmIrqfd.ZERO.withFd(fd).withGsi(LatencyGuest.GSI);
    vm.irqfd(level() ? irqfd.withResample(resampleFd) : irqfd);
  }

  /** The label of a row whose interrupt comes through this irqfd, written by {@code writer}. */
  String label(String writer) {
    return "irqfd " + (level() ? "level (resample)" : "edge") + ", " + writer;
  }

  @Override
  public void close() {
    Fds.close(fd);
    if (resampleFd >= 0) {
      Fds.close(resampleFd);
    }
  }
}
