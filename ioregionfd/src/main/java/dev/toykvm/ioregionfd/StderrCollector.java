package dev.toykvm.ioregionfd;

import dev.toykvm.posix.Fds;
import dev.toykvm.posix.PosixException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reads a child's stderr until EOF, keeps its most recent part, and hands it on line by line.
 *
 * <p>Memory is bounded whatever the child writes: the kept text is at most {@link #KEPT} bytes, and
 * a line is cut every {@link #MAX_LINE} bytes (a child that writes without newlines gets its text
 * handed on in pieces of that size, and one line saying so, once).
 *
 * <p>{@link #run()} runs on one thread (the collector's); {@link #text()} may be called from any.
 */
final class StderrCollector implements Runnable {

  /** How much of the child's stderr {@link #text()} keeps (the most recent part). */
  static final int KEPT = 64 * 1024;

  /** The longest line handed on; longer ones are cut into pieces of this size. */
  static final int MAX_LINE = 4096;

  private final int fd;
  private final String who;
  private final Consumer<String> lines;
  private final byte[] tail = new byte[KEPT];
  private int tailStart;
  private int tailLength;
  private final byte[] line = new byte[MAX_LINE];
  private int lineLength;
  private boolean cutSaid;

  /**
   * @param fd the read end of the child's stderr pipe
   * @param who the child, for the one "lines cut" notice (e.g. {@code "pid 1234"})
   * @param lines gets each line, without its newline, on the collector thread
   */
  StderrCollector(int fd, String who, Consumer<String> lines) {
    this.fd = fd;
    this.who = who;
    this.lines = lines;
  }

  @Override
  public void run() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment chunk = a.allocate(4096);
      byte[] bytes = new byte[4096];
      while (true) {
        long n = Fds.read(fd, chunk, chunk.byteSize());
        if (n <= 0) {
          break;
        }
        MemorySegment.copy(chunk, ValueLayout.JAVA_BYTE, 0, bytes, 0, (int) n);
        keep(bytes, (int) n);
        split(bytes, (int) n);
      }
    } catch (PosixException e) {
      // The fd was closed under us: nothing more to collect.
    }
    if (lineLength > 0) {
      emit();
    }
  }

  /** What the child wrote so far: the last {@link #KEPT} bytes of it. */
  String text() {
    synchronized (tail) {
      byte[] out = new byte[tailLength];
      int first = Math.min(tailLength, KEPT - tailStart);
      System.arraycopy(tail, tailStart, out, 0, first);
      System.arraycopy(tail, 0, out, first, tailLength - first);
      return new String(out, StandardCharsets.UTF_8);
    }
  }

  private void keep(byte[] bytes, int n) {
    synchronized (tail) {
      int from = Math.max(0, n - KEPT); // only the last KEPT bytes can stay
      while (from < n) {
        int end = (tailStart + tailLength) % KEPT;
        int count = Math.min(n - from, KEPT - end);
        System.arraycopy(bytes, from, tail, end, count);
        from += count;
        int overflow = tailLength + count - KEPT;
        if (overflow > 0) {
          tailStart = (tailStart + overflow) % KEPT;
          tailLength = KEPT;
        } else {
          tailLength += count;
        }
      }
    }
  }

  private void split(byte[] bytes, int n) {
    for (int i = 0; i < n; i++) {
      if (bytes[i] == '\n') {
        emit();
        continue;
      }
      if (lineLength == MAX_LINE) {
        if (!cutSaid) {
          cutSaid = true;
          lines.accept(
              "(toykvm: "
                  + who
                  + " writes lines longer than "
                  + MAX_LINE
                  + " bytes on stderr; they are cut into pieces of that size)");
        }
        emit();
      }
      line[lineLength++] = bytes[i];
    }
  }

  private void emit() {
    String s = new String(line, 0, lineLength, StandardCharsets.UTF_8);
    lineLength = 0;
    lines.accept(s);
  }
}
