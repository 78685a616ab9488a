package dev.toykvm.devices;

import static dev.toykvm.devices.TestDevice.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class TestDeviceTest {
  private final TestDevice dev = new TestDevice();

  @Test
  void theRfcTestWriteAtTheBaseReadFourBytesFurther() {
    // kvm-unit-tests' ioregionfd test: out{b,w,l} 0x11223344 to 0x1234, in{b,w,l} from 0x1238.
    dev.write(0, 1, 0x11223344L);
    assertEquals(0x44, dev.read(4, 1));
    dev.write(0, 2, 0x11223344L);
    assertEquals(0x3344, dev.read(4, 2));
    dev.write(0, 4, 0x11223344L);
    assertEquals(0x11223344L, dev.read(4, 4));
  }

  @Test
  void aReadIsTheLowBytesOfTheValueWhereverInTheWindow() {
    dev.write(0, 4, 0x11223344L);
    assertEquals(0x44, dev.read(0, 1));
    assertEquals(0x44, dev.read(3, 1));
    assertEquals(0x3344, dev.read(DATA_MIRROR + 6, 2));
    assertEquals(0x11223344L, dev.read(DATA_MIRROR, 8));
    dev.write(5, 8, 0x8877665544332211L);
    assertEquals(0x8877665544332211L, dev.read(0, 8));
    assertEquals(0x8877665544332211L, dev.data());
  }

  @Test
  void aNarrowWriteReplacesTheWholeValue() {
    dev.write(0, 8, -1);
    dev.write(0, 1, 0x1234);
    assertEquals(0x34, dev.read(0, 8));
  }

  @Test
  void theMirrorIsReadOnly() {
    dev.write(0, 4, 7);
    dev.write(DATA_MIRROR, 4, 9);
    assertEquals(7, dev.read(DATA_MIRROR, 4));
    assertEquals(1, dev.ignoredWrites());
  }

  @Test
  void lastSizeAndAccessCountDescribeTheAccessesBeforeThisOne() {
    assertEquals(0, dev.read(ACCESS_COUNT, 8), "nothing before the first access");
    assertEquals(8, dev.read(LAST_SIZE, 4), "the read of ACCESS_COUNT was 8 bytes");
    dev.write(0, 2, 0);
    assertEquals(2, dev.read(LAST_SIZE, 1));
    assertEquals(4, dev.read(ACCESS_COUNT, 8));
    assertEquals(5, dev.accessCount());
  }

  @Test
  void lastWriteOffsetIsAllOnesUntilAWrite() {
    assertEquals(-1L, dev.read(LAST_WRITE_OFFSET, 8));
    dev.write(0x123, 1, 0);
    assertEquals(0x123, dev.read(LAST_WRITE_OFFSET, 8));
    assertEquals(1, dev.ignoredWrites(), "0x123 is not a register");
  }

  @Test
  void registersReadInHalves() {
    dev.write(LAST_WRITE_OFFSET, 4, 0); // ignored; sets LAST_WRITE_OFFSET to 0x20
    assertEquals(0x20, dev.read(LAST_WRITE_OFFSET, 4));
    assertEquals(0, dev.read(LAST_WRITE_OFFSET + 4, 4));
    assertEquals(0, dev.read(LAST_WRITE_OFFSET + 6, 4), "bytes past the register read 0");
  }

  @Test
  void theSequenceLogChecksPostedWriteOrder() {
    for (int i = 0; i < 10; i++) {
      dev.write(SEQ_APPEND, 4, i);
    }
    assertEquals(10, dev.read(SEQ_IN_ORDER, 8));
    assertEquals(10, dev.read(SEQ_COUNT, 8));
    assertEquals(0, dev.read(SEQ_APPEND, 8));

    dev.write(SEQ_IN_ORDER, 1, 0); // reset
    assertEquals(0, dev.read(SEQ_COUNT, 8));
    dev.write(SEQ_APPEND, 1, 0);
    dev.write(SEQ_APPEND, 1, 2); // out of order
    dev.write(SEQ_APPEND, 1, 1);
    dev.write(SEQ_APPEND, 1, 3);
    assertEquals(1, dev.read(SEQ_IN_ORDER, 8));
    assertEquals(4, dev.read(SEQ_COUNT, 8));
  }

  @Test
  void unknownOffsetsReadZeroAndIgnoreWrites() {
    dev.write(0x60, 4, 1);
    dev.write(MMIO_SIZE - 8, 8, 1);
    dev.write(SEQ_COUNT, 8, 1);
    assertEquals(0, dev.read(0x60, 4));
    assertEquals(0, dev.read(MMIO_SIZE - 1, 1));
    assertEquals(3, dev.ignoredWrites());
    assertEquals(0, dev.data());
  }

  @Property
  void everySizeAndWindowOffsetReadsBackTheTruncatedValue(
      @ForAll @IntRange(min = 0, max = 3) int writeExp,
      @ForAll @IntRange(min = 0, max = 3) int readExp,
      @ForAll @IntRange(min = 0, max = 7) int writeOffset,
      @ForAll @IntRange(min = 0, max = 15) int readOffset,
      @ForAll long value) {
    TestDevice d = new TestDevice();
    d.write(writeOffset, 1 << writeExp, value);
    long stored = value & BusDevice.allOnes(1 << writeExp);
    assertEquals(stored & BusDevice.allOnes(1 << readExp), d.read(readOffset, 1 << readExp));
  }
}
