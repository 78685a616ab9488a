package dev.toykvm.kernel;

import dev.toykvm.kernel.Requests.Failed;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import java.util.concurrent.atomic.AtomicBoolean;

/** A vCPU fd: forwards each ioctl to the vCPU's engine thread and waits for its answer. */
final class ToyVcpu implements VcpuFd {
  private final int id;
  private final ToyVm vm;
  private final Mailbox mailbox = new Mailbox();
  private final VcpuEngine engine;
  private final Thread thread;
  private final AtomicBoolean busy = new AtomicBoolean();
  private volatile boolean closed;

  ToyVcpu(ToyVm vm, int id, MemorySlots slots, KernelIo io) {
    this.vm = vm;
    this.id = id;
    this.engine = new VcpuEngine(id, slots, io, mailbox);
    this.thread =
        Thread.ofPlatform().daemon().name("vcpu" + id + "-engine").unstarted(engine::serve);
    mailbox.bindServer(thread);
    thread.start();
    call("KVM_CREATE_VCPU", new Requests.Init());
  }

  @Override
  public int id() {
    return id;
  }

  @Override
  public VcpuExit run() {
    return (VcpuExit) call("KVM_RUN", new Requests.Run());
  }

  @Override
  public KvmRegs getRegs() {
    return (KvmRegs) call("KVM_GET_REGS", new Requests.GetRegs());
  }

  @Override
  public void setRegs(KvmRegs regs) {
    if (regs == null) {
      throw new KvmException("KVM_SET_REGS", Errno.EFAULT, "regs is null");
    }
    call("KVM_SET_REGS", new Requests.SetRegs(regs));
  }

  @Override
  public KvmSregs getSregs() {
    return (KvmSregs) call("KVM_GET_SREGS", new Requests.GetSregs());
  }

  @Override
  public void setSregs(KvmSregs sregs) {
    if (sregs == null) {
      throw new KvmException("KVM_SET_SREGS", Errno.EFAULT, "sregs is null");
    }
    call("KVM_SET_SREGS", new Requests.SetSregs(sregs));
  }

  @Override
  public void kick() {
    engine.kick();
  }

  private Object call(String ioctl, Object request) {
    if (closed || vm.isClosed()) {
      throw new KvmException(ioctl, Errno.EBADF, "vcpu" + id + " is closed");
    }
    if (!busy.compareAndSet(false, true)) {
      throw new KvmException(ioctl, Errno.EBUSY, "another thread is using vcpu" + id);
    }
    try {
      Object reply = mailbox.call(request);
      if (reply == Mailbox.CLOSED) {
        throw new KvmException(ioctl, Errno.EBADF, "vcpu" + id + " was closed");
      }
      if (reply instanceof Failed f) {
        throw f.exception();
      }
      return reply;
    } finally {
      busy.set(false);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    engine.kick(); // wakes an engine waiting for a device, so it sees the close at once
    mailbox.close();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    vm.forget(this);
  }
}
