package dev.toykvm.devices.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.BusDevice;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * The bus against a naive model: a list of accepted ranges, scanned linearly. Whatever sequence of
 * inserts is tried, the bus accepts exactly those that overlap nothing accepted before, and every
 * address is found in exactly the range the model says.
 */
class BusPropertiesTest {
  private record Insert(long base, long length) {}

  private static final class Named implements BusDevice {
    final int id;

    Named(int id) {
      this.id = id;
    }

    @Override
    public long read(long offset, int size) {
      return 0;
    }

    @Override
    public void write(long offset, int size, long value) {}
  }

  @Property(tries = 300)
  void busAgreesWithANaiveModel(
      @ForAll @Size(max = 20) List<@LongRange(min = 0, max = 0x400) Long> bases,
      @ForAll @Size(max = 20) List<@IntRange(min = 0, max = 0x40) Integer> lengths,
      @ForAll @Size(min = 1, max = 40) List<@LongRange(min = 0, max = 0x480) Long> probes) {
    Bus bus = new Bus("test");
    List<BusRange> accepted = new ArrayList<>();
    List<Named> devices = new ArrayList<>();
    int n = Math.min(bases.size(), lengths.size());
    for (int i = 0; i < n; i++) {
      long base = bases.get(i);
      long length = lengths.get(i);
      boolean modelAccepts =
          length != 0 && accepted.stream().noneMatch(r -> r.overlaps(new BusRange(base, length)));
      Named d = new Named(i);
      boolean busAccepts;
      try {
        bus.insert("d" + i, base, length, d);
        busAccepts = true;
      } catch (BusRangeException e) {
        busAccepts = false;
      }
      assertEquals(modelAccepts, busAccepts, "insert [" + base + ", +" + length + ")");
      if (busAccepts) {
        accepted.add(new BusRange(base, length));
        devices.add(d);
      }
    }
    for (long probe : probes) {
      int expected = -1;
      for (int i = 0; i < accepted.size(); i++) {
        if (accepted.get(i).contains(probe)) {
          expected = i;
        }
      }
      var found = bus.lookup(probe);
      if (expected < 0) {
        assertTrue(found.isEmpty(), "address " + probe);
      } else {
        Bus.Match m = found.orElseThrow();
        assertEquals(devices.get(expected).id, ((Named) m.device()).id);
        assertEquals(probe - accepted.get(expected).base(), m.offset());
      }
    }
  }

  @Property
  void rangesThatWrapPast2To64AreRefused(@ForAll long base, @ForAll long length) {
    BigInteger end =
        new BigInteger(Long.toUnsignedString(base))
            .add(new BigInteger(Long.toUnsignedString(length)));
    boolean wraps = end.compareTo(BigInteger.ONE.shiftLeft(64)) > 0;
    boolean refused;
    try {
      new BusRange(base, length);
      refused = false;
    } catch (BusRangeException e) {
      refused = true;
    }
    assertEquals(length == 0 || wraps, refused);
  }
}
