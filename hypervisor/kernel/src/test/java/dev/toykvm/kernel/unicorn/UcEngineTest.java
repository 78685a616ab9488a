package dev.toykvm.kernel.unicorn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The binding's own guarantees: failures name the call, and no exception escapes an upcall. */
class UcEngineTest {

  /** Callbacks that do nothing but record a failure; {@code ioOut} throws. */
  private static final class Throwing implements UcCallbacks {
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    @Override
    public long mmioRead(long address, int size) {
      return 0;
    }

    @Override
    public void mmioWrite(long address, int size, long value) {}

    @Override
    public void mmioAccess(boolean write, long address, int size, long value) {}

    @Override
    public int ioIn(int port, int size) {
      return 0;
    }

    @Override
    public void ioOut(int port, int size, int value) {
      throw new IllegalStateException("device blew up");
    }

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
    public void upcallFailed(Throwable t) {
      failure.set(t);
    }
  }

  @Test
  void anExceptionInACallbackStopsTheEngineInsteadOfTheJvm() {
    Throwing callbacks = new Throwing();
    try (UcEngine uc = new UcEngine(callbacks)) {
      uc.installCoreHooks(new BlockGate(), true);
      uc.map(0x1000, 0x1000, Uc.PROT_ALL);
      uc.tryWrite(0x1000, new byte[] {(byte) 0xe6, (byte) 0x80, (byte) 0xf4}); // out 0x80, al; hlt
      assertEquals(Uc.ERR_OK, uc.start(0x1000, -1));
      assertInstanceOf(IllegalStateException.class, callbacks.failure.get());
    }
  }

  @Test
  void aFailingCallNamesItselfAndUnicornsError() {
    try (UcEngine uc = new UcEngine(new Throwing())) {
      uc.map(0x1000, 0x1000, Uc.PROT_ALL);
      UnicornException e =
          assertThrows(UnicornException.class, () -> uc.map(0x1000, 0x1000, Uc.PROT_ALL));
      assertTrue(e.getMessage().startsWith("uc_mem_map failed: "), e.getMessage());
      assertEquals(Uc.ERR_MAP, e.code());
    }
  }
}
