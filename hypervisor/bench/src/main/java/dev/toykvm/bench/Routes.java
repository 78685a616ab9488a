package dev.toykvm.bench;

import dev.toykvm.vmm.DeviceSpec;
import java.util.Locale;

/** The routes' names as {@code --device route=} spells them. */
final class Routes {
  private Routes() {}

  /** E.g. {@code "in-process"} for {@link DeviceSpec.Route#IN_PROCESS}. */
  static String label(DeviceSpec.Route route) {
    return route.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * @throws IllegalArgumentException if {@code label} names no route
   */
  static DeviceSpec.Route parse(String label) {
    for (DeviceSpec.Route r : DeviceSpec.Route.values()) {
      if (label(r).equals(label)) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "unknown route '" + label + "': ioregionfd, vmm or in-process");
  }
}
