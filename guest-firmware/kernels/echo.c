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
#include "lib/guest.h"

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

/* ---- GDT and IDT: flat 32-bit segments of our own, one interrupt gate per vector ---- */
static const u64 gdt[] = {0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL};
static u64 idt[256];

struct __attribute__((packed)) table_ptr {
  u16 limit;
  u32 base;
};

extern void unexpected_entry(void);
extern void irq4_entry(void);
extern void spurious_entry(void);

__asm__(".text\n"
        "irq4_entry:\n"
        "  pusha\n"
        "  cld\n"
        "  call uart_interrupt\n"
        "  popa\n"
        "  iret\n"
        "spurious_entry:\n" /* IRQ 7 or 15 with nothing in ISR: no EOI */
        "  iret\n"
        "unexpected_entry:\n"
        "  cld\n"
        "  call unexpected\n");

static void set_gate(int vector, void (*entry)(void)) {
  u32 a = (u32)entry;
  idt[vector] = (u64)(a & 0xffff) | (u64)0x08 << 16 | (u64)0x8e00 << 32 | (u64)(a >> 16) << 48;
}

static void tables_init(void) {
  struct table_ptr g = {sizeof gdt - 1, (u32)gdt};
  __asm__ volatile("lgdt %0\n"
                   "ljmp $0x08, $1f\n"
                   "1: mov $0x10, %%ax\n"
                   "mov %%ax, %%ds\n"
                   "mov %%ax, %%es\n"
                   "mov %%ax, %%ss\n"
                   "mov %%ax, %%fs\n"
                   "mov %%ax, %%gs\n"
                   :
                   : "m"(g)
                   : "eax", "memory");
  for (int v = 0; v < 256; v++) set_gate(v, unexpected_entry);
  set_gate(0x24, irq4_entry);
  set_gate(0x27, spurious_entry);
  set_gate(0x2f, spurious_entry);
  struct table_ptr i = {sizeof idt - 1, (u32)idt};
  __asm__ volatile("lidt %0" : : "m"(i) : "memory");
}

/* The 8259 pair: IRQ 0-7 at vectors 0x20-0x27, 8-15 at 0x28-0x2f, all masked but IRQ 4. */
static void pic_init(void) {
  outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
  outb(0xa0, 0x11);
  outb(0x21, 0x20); /* ICW2: vector base */
  outb(0xa1, 0x28);
  outb(0x21, 0x04); /* ICW3: slave on IR2 */
  outb(0xa1, 0x02);
  outb(0x21, 0x01); /* ICW4: 8086 mode, normal EOI */
  outb(0xa1, 0x01);
  outb(0x21, 0xff & ~(1 << 4));
  outb(0xa1, 0xff);
}

void unexpected(void) __attribute__((noreturn, used));
void unexpected(void) {
  puts("echo: unexpected interrupt or exception\n");
  debug_exit(3);
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
  tables_init();
  pic_init();
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
