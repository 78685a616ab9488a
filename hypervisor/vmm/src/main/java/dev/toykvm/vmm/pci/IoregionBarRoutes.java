package dev.toykvm.vmm.pci;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.VmFd;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A device process's BARs as ioregions ({@code KVM_SET_IOREGIONFD}) that follow the guest: a BAR
 * that starts being decoded is assigned at its address, one that stops is deassigned (the exact
 * region registered), so a move is a deassign and an assign. Every BAR's region uses the same
 * pipes; {@code user_data} carries the BAR number in bits 48-55 ({@code
 * BusDeviceHandler.WINDOW_SHIFT}), so the device process serves each BAR with its own device
 * ({@code BusDeviceHandler.byWindow}).
 *
 * <p>A place the kernel side refuses (it overlaps another ioregion or ioeventfd: {@code EEXIST}) is
 * the guest's doing: logged, and the BAR decodes nothing until it moves again.
 */
public final class IoregionBarRoutes implements BarListener {
  private static final Logger log = LoggerFactory.getLogger(IoregionBarRoutes.class);

  /** Where the BAR number goes in {@code user_data} (as {@code BusDeviceHandler.WINDOW_SHIFT}). */
  public static final int BAR_SHIFT = 48;

  private final VmFd vm;
  private final String name;
  private final int readFd;
  private final int writeFd;
  private final long userData;
  private final boolean postedWrites;
  private final Map<Integer, KvmIoregion> registered = new HashMap<>();

  /**
   * @param name the device's name in messages
   * @param readFd the device's response fd
   * @param writeFd the device's command fd
   * @param userData the device's {@code user_data} (bits 48-55 must be 0)
   * @param postedWrites whether memory BARs take posted writes (doorbells)
   */
  public IoregionBarRoutes(
      VmFd vm, String name, int readFd, int writeFd, long userData, boolean postedWrites) {
    this.vm = vm;
    this.name = name;
    this.readFd = readFd;
    this.writeFd = writeFd;
    this.userData = userData;
    this.postedWrites = postedWrites;
  }

  @Override
  public synchronized void mapped(BarMapping m) {
    int flags =
        m.io()
            ? KvmConstants.KVM_IOREGION_PIO
            : postedWrites ? KvmConstants.KVM_IOREGION_POSTED_WRITES : 0;
    KvmIoregion region =
        new KvmIoregion(
            m.address(), m.size(), userData | (long) m.bar() << BAR_SHIFT, readFd, writeFd, flags);
    try {
      vm.setIoregion(region);
      registered.put(m.bar(), region);
    } catch (KvmException e) {
      log.warn("pci: {} {} decodes nothing: {}", name, m, e.getMessage());
    }
  }

  @Override
  public synchronized void unmapped(BarMapping m) {
    KvmIoregion region = registered.remove(m.bar());
    if (region == null) {
      return;
    }
    try {
      vm.setIoregion(region.deassign());
    } catch (KvmException e) {
      log.error("pci: {} cannot remove the ioregion of {}: {}", name, m, e.getMessage());
    }
  }

  /** The regions registered now, by BAR number. */
  public synchronized Map<Integer, KvmIoregion> registered() {
    return Map.copyOf(registered);
  }
}
