package dev.toykvm.cli;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a VT100 terminal would show after a byte stream: an 80 x 25 screen of characters. Enough for
 * a program that draws with cursor moves ({@code ESC [ row ; col H}), clears ({@code ESC [ 2 J})
 * and attributes ({@code ESC [ ... m}, ignored), as memtest86+ does on its serial console.
 */
final class Vt100Screen {
  static final int ROWS = 25;
  static final int COLUMNS = 80;
  private static final Pattern CSI = Pattern.compile("\\x1b\\[([0-9;?]*)([A-Za-z])");

  private final char[][] cells = new char[ROWS][COLUMNS];

  private Vt100Screen() {
    clear();
  }

  private void clear() {
    for (char[] row : cells) {
      Arrays.fill(row, ' ');
    }
  }

  /** The screen after {@code stream}. */
  static Vt100Screen of(String stream) {
    Vt100Screen s = new Vt100Screen();
    int row = 0;
    int col = 0;
    Matcher m = CSI.matcher(stream);
    for (int i = 0; i < stream.length(); ) {
      char c = stream.charAt(i);
      if (c == 0x1b) {
        if (m.find(i) && m.start() == i) {
          String args = m.group(1);
          switch (m.group(2)) {
            case "H", "f" -> {
              String[] p = args.isEmpty() ? new String[0] : args.split(";");
              row = p.length > 0 && !p[0].isEmpty() ? Integer.parseInt(p[0]) - 1 : 0;
              col = p.length > 1 && !p[1].isEmpty() ? Integer.parseInt(p[1]) - 1 : 0;
            }
            case "J" -> {
              if (args.equals("2")) {
                s.clear();
              }
            }
            default -> {} // attributes, cursor visibility
          }
          i = m.end();
        } else {
          i++;
        }
        continue;
      }
      if (c == '\n') {
        row++;
        col = 0;
      } else if (c == '\r') {
        col = 0;
      } else if (c >= ' ') {
        if (row >= 0 && row < ROWS && col >= 0 && col < COLUMNS) {
          s.cells[row][col] = c;
        }
        col++;
      }
      i++;
    }
    return s;
  }

  /** Row {@code row} (0-based), trailing blanks removed. */
  String row(int row) {
    return new String(cells[row]).stripTrailing();
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (int r = 0; r < ROWS; r++) {
      b.append(row(r)).append('\n');
    }
    return b.toString();
  }
}
