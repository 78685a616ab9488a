/*
 * lapictimer: a multiboot v1 kernel that counts local APIC timer ticks while it sleeps in hlt.
 * Its own GDT and IDT (lib/intr.c); the 8259s masked (SeaBIOS leaves IRQ 0 unmasked on QEMU);
 * the local APIC software-enabled, its timer periodic at vector 0x40, 10 ms a period (divide by 1: the timer
 * counts at 1 GHz on KVM, QEMU and toykvm). The PIT's counter 2 (gated by port 0x61) measures
 * the time of 4 ticks, which must be at least 4 periods (ticks never come early) and at most
 * the counter's range (55 ms; a slower host only sets OUT2). Exits through isa-debug-exit
 * (QEMU's mode): status 1 when every check passed, 3 otherwise.
 */
#include "lib/intr.h"

#define TIMER_VECTOR 0x40
#define SPURIOUS_VECTOR 0xff
#define PERIOD_NS 10000000u /* 10 ms at 1 GHz, divide by 1 */
#define TICKS 4
#define PIT_HZ 1193182u

volatile u32 ticks;

/* The timer's ISR: count and EOI. */
void timer_isr(void);
__asm__(".globl timer_isr\n"
        "timer_isr:\n"
        "  incl ticks\n"
        "  movl $0, 0xfee000b0\n"
        "  iret\n");

/* PIT counter 2 from 0xffff, mode 0, gated on by port 0x61 (speaker off). */
static void pit2_start(void) {
  outb(0x61, (inb(0x61) & ~0x03) | 0x01);
  outb(0x43, 0xb0); /* counter 2, LSB then MSB, mode 0, binary */
  outb(0x42, 0xff);
  outb(0x42, 0xff);
}

/* PIT counts since pit2_start; -1 if the counter ran out (OUT2 high, more than 55 ms). */
static int pit2_elapsed(void) {
  outb(0x43, 0x80); /* latch counter 2 */
  u32 lo = inb(0x42);
  u32 hi = inb(0x42);
  if (inb(0x61) & 0x20) return -1;
  return 0xffff - (hi << 8 | lo);
}

void kmain(void) {
  puts("lapictimer: local APIC timer ticks in hlt\n");
  tables_init();
  idt_set(TIMER_VECTOR, timer_isr);
  idt_set(SPURIOUS_VECTOR, iret_entry); /* the spurious vector needs no EOI */
  outb(0x21, 0xff); /* both 8259s masked */
  outb(0xa1, 0xff);

  lapic_enable(SPURIOUS_VECTOR);
  lapic_write(LAPIC_TIMER_DIVIDE, 0xb); /* divide by 1 */
  lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
  check(lapic_read(LAPIC_LVT_TIMER) == (LVT_PERIODIC | TIMER_VECTOR), "LVT timer periodic, 0x40");
  pit2_start();
  lapic_write(LAPIC_TIMER_INITIAL, PERIOD_NS);
  check(lapic_read(LAPIC_TIMER_CURRENT) <= PERIOD_NS, "current count counts down");

  u32 wakeups = 0;
  while (ticks < TICKS) {
    __asm__ volatile("sti; hlt; cli" ::: "memory");
    wakeups++;
  }
  int elapsed = pit2_elapsed();
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
  check(ticks >= TICKS, "4 ticks counted");
  /* At least one tick per wake-up; two if the next one came between the iret and the cli. */
  check(wakeups >= 1 && wakeups <= ticks, "hlt woken only by ticks");
  u32 least = (u32)((u64)PIT_HZ * TICKS * (PERIOD_NS / 1000) / 1000000) * 9 / 10;
  check(elapsed < 0 || (u32)elapsed >= least, "the PIT saw at least 4 periods (ticks not early)");
  finish();
}
