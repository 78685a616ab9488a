package dev.toykvm.vmm;

import dev.toykvm.devices.IrqLine;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.VmFd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ISA interrupt lines of VMM devices, driven through {@code KVM_IRQ_LINE} ({@link
 * VmFd#irqLine}) into the VM's in-kernel irqchip. A VM without one answers {@code ENXIO}: the line
 * then goes nowhere, as on a board without an interrupt controller, logged once. Any thread.
 */
final class VmIrqLines implements IrqLine {
  private static final Logger log = LoggerFactory.getLogger(VmIrqLines.class);

  private final VmFd vm;
  private volatile boolean noIrqchip;

  VmIrqLines(VmFd vm) {
    this.vm = vm;
  }

  @Override
  public void setIrq(int irq, boolean level) {
    if (noIrqchip) {
      return;
    }
    try {
      vm.irqLine(irq, level ? 1 : 0);
    } catch (KvmException e) {
      if (e.errno() == Errno.ENXIO) {
        noIrqchip = true;
        log.debug("irq: IRQ {} goes nowhere: the VM has no irqchip (logged once)", irq);
      } else {
        log.debug("irq: KVM_IRQ_LINE {} {} failed: {}", irq, level, e.getMessage());
      }
    }
  }
}
