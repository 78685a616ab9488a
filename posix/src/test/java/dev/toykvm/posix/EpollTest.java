package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class EpollTest {
  @Test
  void anEventCarriesItsDataAndADeletedFdIsNoLongerWatched() {
    int ep = Epoll.create();
    int a = Eventfd.create();
    int b = Eventfd.create();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment events = arena.allocate(Epoll.EVENT_BYTES * 4, 8);
      Epoll.add(ep, a, Epoll.EPOLLIN | Epoll.EPOLLEXCLUSIVE, 0x1_0000_0007L);
      Epoll.add(ep, b, Epoll.EPOLLIN, 42);
      assertEquals(0, Epoll.await(ep, events, 4, 0), "nothing signalled yet");
      Eventfd.signal(a);
      assertEquals(1, Epoll.await(ep, events, 4, 0));
      assertEquals(
          0x1_0000_0007L, Epoll.data(events, 0), "the 64-bit data, unaligned in the struct");
      assertEquals(Epoll.EPOLLIN, Epoll.events(events, 0) & Epoll.EPOLLIN);
      Epoll.delete(ep, a);
      assertEquals(0, Epoll.await(ep, events, 4, 0), "a's counter is still 1, but a is gone");
      Eventfd.signal(b);
      assertEquals(1, Epoll.await(ep, events, 4, 0));
      assertEquals(42, Epoll.data(events, 0));
      PosixException twice = assertThrows(PosixException.class, () -> Epoll.add(ep, b, 1, 0));
      assertEquals(17, twice.errno(), "EEXIST");
      PosixException gone = assertThrows(PosixException.class, () -> Epoll.delete(ep, a));
      assertEquals(2, gone.errno(), "ENOENT");
    } finally {
      Fds.close(a);
      Fds.close(b);
      Fds.close(ep);
    }
  }
}
