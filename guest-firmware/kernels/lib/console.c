/* COM1 output, checks and exits for the C guests (see guest.h). */
#include "guest.h"

int failures;
u16 console_debugcon;

void putc(char c) {
  if (console_debugcon) {
    outb(console_debugcon, (u8)c);
    return;
  }
  if (c == '\n') putc('\r');
  while (!(inb(COM1 + 5) & 0x20)) {
  }
  outb(COM1, (u8)c);
}

void puts(const char *s) {
  while (*s) putc(*s++);
}

void putu(u32 v) {
  char b[11];
  int i = 10;
  b[i] = 0;
  do {
    b[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  puts(b + i);
}

void putx(u32 v) {
  static const char digits[] = "0123456789abcdef";
  puts("0x");
  for (int shift = 28; shift >= 0; shift -= 4) putc(digits[(v >> shift) & 0xf]);
}

void check(int ok, const char *what) {
  puts(ok ? "ok   " : "FAIL ");
  puts(what);
  puts("\n");
  if (!ok) failures++;
}

void debug_exit(u32 code) {
  outb(DEBUG_EXIT_PORT, (u8)code);
  for (;;) __asm__ volatile("cli; hlt");
}

void finish(void) {
  if (failures) {
    putu((u32)failures);
    puts(" check(s) failed\n");
  } else {
    puts("all checks passed\n");
  }
  debug_exit(failures ? 1 : 0);
}
