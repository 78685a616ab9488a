package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bookkeeping of writes to read-only memory, on a byte array and a fake engine. */
class ReadOnlyRestoresTest {
  private static final long BASE = 0x1000;
  private final byte[] rom = new byte[64];
  private final List<String> calls = new ArrayList<>();
  private long nextHook = 1;

  private final ReadOnlyRestores restores =
      new ReadOnlyRestores(
          new ReadOnlyRestores.Memory() {
            @Override
            public byte[] read(long address, int length) {
              int at = (int) (address - BASE);
              return Arrays.copyOfRange(rom, at, at + length);
            }

            @Override
            public void write(long address, byte[] bytes) {
              System.arraycopy(bytes, 0, rom, (int) (address - BASE), bytes.length);
            }
          },
          new ReadOnlyRestores.Engine() {
            @Override
            public long hookReads(long begin, long end) {
              calls.add(String.format("hook 0x%x-0x%x", begin, end));
              return nextHook++;
            }

            @Override
            public void removeHook(long handle) {
              calls.add("unhook " + handle);
            }

            @Override
            public void removeTranslations(long begin, long end) {
              calls.add(String.format("retranslate 0x%x-0x%x", begin, end));
            }
          });

  ReadOnlyRestoresTest() {
    for (int i = 0; i < rom.length; i++) {
      rom[i] = (byte) i;
    }
  }

  /** What Unicorn does after the hook returns: the store lands. */
  private void land(long address, byte... bytes) {
    System.arraycopy(bytes, 0, rom, (int) (address - BASE), bytes.length);
  }

  @Test
  void theOldBytesGoBackAndTheirReadHookAndTranslationsGo() {
    restores.blockStarts(0x100, 16);
    assertTrue(restores.isNewWrite(BASE + 4, 2, 0xaaaa));
    restores.willLand(BASE + 4, 2);
    land(BASE + 4, (byte) 0xaa, (byte) 0xaa);
    assertFalse(restores.isEmpty());
    restores.restoreAll(); // a read hook fired
    assertArrayEquals(new byte[] {4, 5}, Arrays.copyOfRange(rom, 4, 6));
    assertTrue(restores.isEmpty());
    assertEquals(List.of("hook 0x1004-0x1005", "unhook 1", "retranslate 0x1004-0x1006"), calls);
  }

  @Test
  void aBlockTranslatedFromWrittenBytesMustBeTranslatedAgain() {
    restores.blockStarts(0x100, 16);
    restores.isNewWrite(BASE + 8, 1, 0x77);
    restores.willLand(BASE + 8, 1);
    land(BASE + 8, (byte) 0x77);
    assertTrue(restores.blockStarts(BASE, 10), "the block covers the written byte");
    assertEquals(8, rom[8]);
    assertFalse(restores.blockStarts(BASE, 10), "now translated from the old bytes");
  }

  @Test
  void aBlockElsewhereRunsAsItIs() {
    restores.blockStarts(0x100, 16);
    restores.isNewWrite(BASE + 8, 1, 0x77);
    restores.willLand(BASE + 8, 1);
    land(BASE + 8, (byte) 0x77);
    assertFalse(restores.blockStarts(BASE + 9, 10));
    assertEquals(8, rom[8]);
  }

  @Test
  void qemuRepeatingAWriteToTheRunningBlockIsNotANewWrite() {
    restores.blockStarts(BASE, 16); // code in ROM writes into its own block
    assertTrue(restores.isNewWrite(BASE + 8, 1, 0x02));
    restores.willLand(BASE + 8, 1); // QEMU abandons the block before the store
    assertFalse(restores.blockStarts(BASE, 7), "nothing landed, nothing to translate again");
    assertFalse(restores.isNewWrite(BASE + 8, 1, 0x02), "the same store, repeated alone");
    restores.willLand(BASE + 8, 1);
    land(BASE + 8, (byte) 0x02);
    assertTrue(restores.blockStarts(BASE + 7, 3));
    assertTrue(restores.isNewWrite(BASE + 8, 1, 0x02), "a later store is a new write");
  }

  @Test
  void theRepetitionIsOnlyExpectedInTheNextBlock() {
    restores.blockStarts(BASE, 16);
    assertTrue(restores.isNewWrite(BASE + 8, 1, 0x02));
    restores.blockStarts(BASE, 7);
    restores.blockStarts(BASE + 20, 7);
    assertTrue(restores.isNewWrite(BASE + 8, 1, 0x02));
  }

  @Test
  void aWriteOutsideTheRunningBlockIsNeverRepeated() {
    restores.blockStarts(0x100, 16);
    assertTrue(restores.isNewWrite(BASE, 1, 1));
    assertTrue(restores.isNewWrite(BASE, 1, 1), "the guest wrote twice");
  }

  /** The ROM's alias below 1 MiB is another slot of the same bytes: a read there restores too. */
  @Test
  void aReadThroughAnotherSlotOfTheSameMemoryPutsTheBytesBack() {
    List<String> log = new ArrayList<>();
    ReadOnlyRestores aliased =
        new ReadOnlyRestores(
            new ReadOnlyRestores.Memory() {
              @Override
              public byte[] read(long address, int length) {
                int at = (int) (address - BASE);
                return Arrays.copyOfRange(rom, at, at + length);
              }

              @Override
              public void write(long address, byte[] bytes) {
                System.arraycopy(bytes, 0, rom, (int) (address - BASE), bytes.length);
              }

              @Override
              public List<long[]> aliases(long address, int length) {
                return List.of(new long[] {address - BASE + 0xf0000, length});
              }
            },
            new ReadOnlyRestores.Engine() {
              private long next = 1;

              @Override
              public long hookReads(long begin, long end) {
                log.add(String.format("hook 0x%x-0x%x", begin, end));
                return next++;
              }

              @Override
              public void removeHook(long handle) {
                log.add("unhook " + handle);
              }

              @Override
              public void removeTranslations(long begin, long end) {
                log.add(String.format("retranslate 0x%x-0x%x", begin, end));
              }
            });
    aliased.blockStarts(0x100, 16);
    aliased.isNewWrite(BASE + 4, 2, 0xaaaa);
    aliased.willLand(BASE + 4, 2);
    land(BASE + 4, (byte) 0xaa, (byte) 0xaa);
    // A block running from the alias of the written bytes must be translated again.
    assertTrue(aliased.blockStarts(0xf0000, 16));
    assertArrayEquals(new byte[] {4, 5}, Arrays.copyOfRange(rom, 4, 6));
    assertEquals(
        List.of(
            "hook 0x1004-0x1005",
            "hook 0xf0004-0xf0005",
            "unhook 1",
            "unhook 2",
            "retranslate 0x1004-0x1006"),
        log);
  }
}
