package dev.toykvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KvmStatTest {
  private static final KvmStat EXITS =
      new KvmStat("exits", KvmStat.Type.CUMULATIVE, KvmStat.Unit.NONE, 7);

  @Test
  void findsAStatisticByName() {
    List<KvmStat> stats =
        List.of(EXITS, new KvmStat("io_exits", KvmStat.Type.CUMULATIVE, KvmStat.Unit.NONE, 3));
    assertEquals(Optional.of(3L), KvmStat.find(stats, "io_exits"));
    assertEquals(Optional.empty(), KvmStat.find(stats, "mmio_exits"));
  }

  @Test
  void aStatisticNeedsANameATypeAndAUnit() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new KvmStat("", KvmStat.Type.CUMULATIVE, KvmStat.Unit.NONE, 0));
    assertThrows(
        NullPointerException.class,
        () -> new KvmStat(null, KvmStat.Type.PEAK, KvmStat.Unit.NONE, 0));
    assertThrows(NullPointerException.class, () -> new KvmStat("x", null, KvmStat.Unit.NONE, 0));
    assertThrows(NullPointerException.class, () -> new KvmStat("x", KvmStat.Type.INSTANT, null, 0));
  }
}
