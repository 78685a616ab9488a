package dev.toykvm.kernel.unicorn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The exactness condition of an asynchronous {@code uc_emu_stop} in libunicorn 2.0.1 (see {@link
 * AsyncStop}): without the switch a stop can leave a block right after a load or store, with RIP at
 * the block's start; with it, stops land only at block entries.
 */
class AsyncStopTest {
  private static final long CODE = 0x1000;
  private static final long COUNTER = 0x3000;
  private static final long MMIO = 0x8000;

  /** Callbacks that do nothing, except stop the engine at an MMIO write. */
  private static final class Quiet implements UcCallbacks {
    UcEngine engine;

    @Override
    public long mmioRead(long address, int size) {
      return 0;
    }

    @Override
    public void mmioWrite(long address, int size, long value) {
      engine.stop();
    }

    @Override
    public void mmioAccess(boolean write, long address, int size, long value) {}

    @Override
    public int ioIn(int port, int size) {
      return 0;
    }

    @Override
    public void ioOut(int port, int size, int value) {}

    @Override
    public void interrupt(int vector) {}

    @Override
    public void block(long address, int size) {}

    @Override
    public void hookedRead(long address, int size) {}

    @Override
    public boolean unmapped(int type, long address, int size, long value) {
      return false;
    }

    @Override
    public void readOnlyWrite(long address, int size, long value) {}

    @Override
    public boolean cpuid() {
      return false;
    }

    @Override
    public void upcallFailed(Throwable t) {}
  }

  private static UcEngine engine(Quiet callbacks, boolean exact) {
    UcEngine uc = new UcEngine(callbacks);
    callbacks.engine = uc;
    if (exact) {
      AsyncStop.makeExact(uc);
    }
    uc.map(0, 0x8000, Uc.PROT_ALL);
    uc.mapMmio(MMIO, 0x1000);
    return uc;
  }

  private static int u32(UcEngine uc, long address) {
    return ByteBuffer.wrap(uc.tryRead(address, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
  }

  @Test
  void aStopAtAnAccessLeavesTheBlockAtItsStartUnlessTheSwitchIsSet() {
    // mov [0x8000], eax; inc ebx; hlt (64-bit code, one block)
    byte[] code = {(byte) 0x89, 0x04, 0x25, 0x00, (byte) 0x80, 0, 0, (byte) 0xff, (byte) 0xc3};
    byte[] hlt = {(byte) 0xf4};
    for (boolean exact : new boolean[] {false, true}) {
      try (UcEngine uc = engine(new Quiet(), exact)) {
        uc.tryWrite(CODE, code);
        uc.tryWrite(CODE + code.length, hlt);
        assertEquals(Uc.ERR_OK, uc.start(CODE, -1));
        if (exact) {
          assertEquals(1, uc.readReg(Uc.X86_REG_RBX), "the block ran to its end");
          assertEquals(CODE + code.length + 1, uc.readReg(Uc.X86_REG_RIP));
        } else {
          assertEquals(0, uc.readReg(Uc.X86_REG_RBX), "left right after the store");
          assertEquals(CODE, uc.readReg(Uc.X86_REG_RIP), "with RIP at the block's start");
        }
      }
    }
  }

  @Test
  void thousandsOfStopsFromAnotherThreadRunNothingTwice() throws Exception {
    // 1: inc dword [0x3000]; add eax, 1; jmp 1b (a store and a register op per iteration)
    byte[] code = {
      (byte) 0xff,
      0x04,
      0x25,
      0x00,
      0x30,
      0,
      0,
      (byte) 0x83,
      (byte) 0xc0,
      0x01,
      (byte) 0xeb,
      (byte) 0xf4
    };
    int stops = 3000;
    try (UcEngine uc = engine(new Quiet(), true)) {
      uc.tryWrite(CODE, code);
      AtomicLong returns = new AtomicLong();
      AtomicBoolean enough = new AtomicBoolean();
      AtomicBoolean engineDone = new AtomicBoolean();
      Thread stopper =
          Thread.ofPlatform()
              .name("test-stopper")
              .start(
                  () -> {
                    for (int i = 0; i < stops; i++) {
                      long before = returns.get();
                      while (returns.get() == before) {
                        uc.stop(); // a stop in the instant before uc_emu_start is lost: again
                        for (int spin = 0; spin < 200; spin++) {
                          Thread.onSpinWait();
                        }
                      }
                    }
                    enough.set(true);
                    while (!engineDone.get()) {
                      uc.stop();
                      Thread.onSpinWait();
                    }
                  });
      long rip = CODE;
      try {
        while (!enough.get()) {
          assertEquals(Uc.ERR_OK, uc.start(rip, -1));
          rip = uc.readReg(Uc.X86_REG_RIP);
          returns.incrementAndGet();
        }
      } finally {
        engineDone.set(true);
        stopper.join();
      }
      long eax = uc.readReg(Uc.X86_REG_RAX) & 0xffff_ffffL;
      long counter = u32(uc, COUNTER) & 0xffff_ffffL;
      assertEquals(CODE, rip, "every stop lands at the block's entry");
      assertEquals(eax, counter, "the store ran exactly as often as the add, over " + stops);
    }
  }
}
