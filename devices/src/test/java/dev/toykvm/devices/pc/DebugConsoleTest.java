package dev.toykvm.devices.pc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DebugConsoleTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final DebugConsole console = new DebugConsole(out);

  @Test
  void bytesWrittenGoToTheSink() {
    for (byte b : "SeaBIOS\n".getBytes(StandardCharsets.US_ASCII)) {
      console.write(0, 1, b);
    }
    assertEquals("SeaBIOS\n", out.toString(StandardCharsets.US_ASCII));
  }

  @Test
  void aWideWriteSendsItsLowByte() {
    console.write(0, 4, 0x1234_5641);
    assertEquals("A", out.toString(StandardCharsets.US_ASCII));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4})
  void readsReturnE9(int size) {
    assertEquals(0xe9, console.read(0, size));
  }

  @Test
  void theSinkIsFlushedAtEachNewline() {
    int[] flushes = {0};
    DebugConsole c =
        new DebugConsole(
            new OutputStream() {
              @Override
              public void write(int b) {}

              @Override
              public void flush() {
                flushes[0]++;
              }
            });
    c.write(0, 1, 'a');
    assertEquals(0, flushes[0]);
    c.write(0, 1, '\n');
    assertEquals(1, flushes[0]);
  }

  @Test
  void aFailingSinkDropsTheOutputQuietly() {
    DebugConsole c =
        new DebugConsole(
            new OutputStream() {
              @Override
              public void write(int b) throws IOException {
                throw new IOException("closed");
              }
            });
    c.write(0, 1, 'x');
    c.write(0, 1, 'y');
    assertEquals(2, c.droppedBytes());
    assertEquals(0xe9, c.read(0, 1));
  }
}
