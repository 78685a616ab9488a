package dev.toykvm.kernel.unicorn;

import java.lang.foreign.ValueLayout;

final class ValueLayouts {
  private ValueLayouts() {}

  static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT;
}
