/*
 * echo: an interactive guest. COM1 receives with its FIFO on, each byte arrives through IRQ 4 and
 * the 8259 PIC (vector 0x24), the main loop sleeps in hlt between interrupts, and every line
 * received is sent back as "echo: LINE". A line "quit" ends the VM with status 0.
 *
 * Built twice: echo (interrupt-driven, as above) and echo-poll (-DECHO_POLLED: the same loop
 * polling LSR.DR, with interrupts off; for a machine whose devices cannot interrupt yet).
 *
 * The UART is set up before RTS is asserted (MCR last): toykvm's COM1 sends its input only while
 * RTS is on, so piped input is never lost to the FIFO switch. QEMU sends at once and drops what
 * comes before the FIFO is on, so give it the input a little later:
 *   (sleep 1; printf 'hello\nquit\n') | qemu-system-i386 -kernel echo.elf -serial stdio \
 *     -display none -device isa-debug-exit,iobase=0xf4,iosize=4
 * (status 1 there: QEMU's isa-debug-exit gives (code << 1) | 1.)
 */
#include "lib/intr.h"

#define UART_RBR (COM1 + 0)
#define UART_DLL (COM1 + 0)
#define UART_IER (COM1 + 1)
#define UART_DLM (COM1 + 1)
#define UART_IIR (COM1 + 2)
#define UART_FCR (COM1 + 2)
#define UART_LCR (COM1 + 3)
#define UART_MCR (COM1 + 4)
#define UART_LSR (COM1 + 5)
#define UART_MSR (COM1 + 6)

#define LINE_MAX 120

/* Bytes the interrupt handler received, for the main loop: a ring, one producer, one consumer. */
static volatile u8 ring[256];
static volatile u8 ring_head, ring_tail;
static volatile u32 interrupts;

static void uart_init(void) {
  outb(UART_IER, 0x00);
  outb(UART_LCR, 0x80); /* DLAB */
  outb(UART_DLL, 0x01); /* 115200 baud */
  outb(UART_DLM, 0x00);
  outb(UART_LCR, 0x03); /* 8N1 */
  outb(UART_FCR, 0xc7); /* FIFOs on and empty, trigger level 14: the rest by the timeout */
  outb(UART_MCR, 0x0b); /* DTR, RTS (ready to receive), OUT2 (the IRQ line's gate on a PC) */
}

static void received(u8 b) { ring[ring_head++] = b; }

#ifndef ECHO_POLLED

/* IRQ 4's entry, and the tables and 8259s through the library (lib/intr.c). */
void irq4_entry(void);
INTERRUPT_ENTRY(irq4_entry, uart_interrupt);

static void tables_and_pic_init(void) {
  tables_init(); /* every other vector: "unexpected interrupt or exception", status 1 */
  idt_set(0x24, irq4_entry);
  idt_set(0x27, iret_entry); /* IRQ 7 or 15 with nothing in ISR: spurious, no EOI */
  idt_set(0x2f, iret_entry);
  pic_init_masked(0x20, 0x28); /* IRQ 0-7 at vectors 0x20-0x27, 8-15 at 0x28-0x2f */
  outb(0x21, 0xff & ~(1 << 4)); /* all masked but IRQ 4 */
}

/* IRQ 4: drain every source the UART reports, then end the interrupt at the PIC. */
void uart_interrupt(void) __attribute__((used));
void uart_interrupt(void) {
  interrupts++;
  for (int guard = 0; guard < 64; guard++) {
    u8 iir = inb(UART_IIR);
    if (iir & 0x01) break;
    switch (iir & 0x0e) {
      case 0x04: /* received data */
      case 0x0c: /* character timeout */
        while (inb(UART_LSR) & 0x01) received(inb(UART_RBR));
        break;
      case 0x06: /* line status */
        inb(UART_LSR);
        break;
      case 0x00: /* modem status */
        inb(UART_MSR);
        break;
      default: /* THR empty: not enabled; reading IIR acknowledged it */
        break;
    }
  }
  outb(0x20, 0x20); /* non-specific EOI */
}

/* The next byte received: sleeps in hlt until the interrupt handler has one. */
static u8 next_byte(void) {
  for (;;) {
    __asm__ volatile("cli" ::: "memory");
    if (ring_tail != ring_head) {
      u8 b = ring[ring_tail++];
      __asm__ volatile("sti" ::: "memory");
      return b;
    }
    __asm__ volatile("sti; hlt" ::: "memory"); /* the sti shadow: no wake-up is lost */
  }
}

static void start(void) {
  tables_and_pic_init();
  uart_init();
  outb(UART_IER, 0x05); /* received data (and timeout), line status */
  __asm__ volatile("sti");
  puts("echo: interrupt-driven (IRQ 4 through the PIC); type lines, \"quit\" ends\n");
}

#else

static u8 next_byte(void) {
  while (!(inb(UART_LSR) & 0x01)) {
  }
  received(inb(UART_RBR));
  return ring[ring_tail++];
}

static void start(void) {
  uart_init();
  puts("echo: polled; type lines, \"quit\" ends\n");
}

#endif

void kmain(u32 magic, void *info) {
  (void)magic;
  (void)info;
  start();
  char line[LINE_MAX + 1];
  u32 n = 0;
  for (;;) {
    u8 b = next_byte();
    if (b == '\r') continue;
    if (b != '\n') {
      if (n < LINE_MAX) line[n++] = (char)b;
      continue;
    }
    line[n] = 0;
    n = 0;
    puts("echo: ");
    puts(line);
    puts("\n");
    if (streq(line, "quit")) {
#ifndef ECHO_POLLED
      puts("echo: bye after ");
      putu(interrupts);
      puts(" interrupts\n");
#else
      puts("echo: bye\n");
#endif
      debug_exit(0);
    }
  }
}
