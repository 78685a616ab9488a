/* The interrupt part of the C guest library (see intr.h). */
#include "intr.h"

static const u64 gdt[] = {0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL};
static u64 idt[256];

struct __attribute__((packed)) table_ptr {
  u16 limit;
  u32 base;
};

void unexpected_entry(void);
void unexpected_interrupt(void) __attribute__((noreturn, used));
void unexpected_interrupt(void) {
  puts("unexpected interrupt or exception\n");
  debug_exit(1);
}
__asm__(".text\n"
        "unexpected_entry:\n"
        "  cld\n"
        "  call unexpected_interrupt\n"
        ".globl iret_entry\n"
        "iret_entry:\n"
        "  iret\n");

void idt_set(int vector, void (*entry)(void)) {
  u32 a = (u32)entry;
  idt[vector] = (u64)(a & 0xffff) | (u64)0x08 << 16 | (u64)0x8e00 << 32 | (u64)(a >> 16) << 48;
}

void tables_init(void) {
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
  for (int v = 0; v < 256; v++) idt_set(v, unexpected_entry);
  idt_load();
}

void idt_load(void) {
  struct table_ptr i = {sizeof idt - 1, (u32)idt};
  __asm__ volatile("lidt %0" : : "m"(i) : "memory");
}

int lapic_bit(u32 base, u8 vector) {
  return (lapic_read(base + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

void lapic_enable(u8 spurious) { lapic_write(LAPIC_SPIV, 0x100 | spurious); }

void lapic_timer_start(u32 ms, u32 lvt) {
  lapic_write(LAPIC_TIMER_INITIAL, 0);
  lapic_write(LAPIC_TIMER_DIVIDE, 0xa); /* divide by 128 */
  lapic_write(LAPIC_LVT_TIMER, lvt);
  u32 ticks = ms > 0xffffffffu / LAPIC_TIMER_TICKS_PER_MS ? 0xffffffffu : ms * LAPIC_TIMER_TICKS_PER_MS;
  lapic_write(LAPIC_TIMER_INITIAL, ticks ? ticks : 1);
}

void lapic_timer_stop(void) {
  lapic_write(LAPIC_TIMER_INITIAL, 0);
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
}

u32 ioapic_read(u32 reg) {
  mmio_write32(IOAPIC_BASE, reg);
  return mmio_read32(IOAPIC_BASE + 0x10);
}

void ioapic_write(u32 reg, u32 v) {
  mmio_write32(IOAPIC_BASE, reg);
  mmio_write32(IOAPIC_BASE + 0x10, v);
}

void ioapic_route(u32 pin, u32 low, u8 dest) {
  ioapic_write(IOAPIC_REDTBL(pin) + 1, (u32)dest << 24);
  ioapic_write(IOAPIC_REDTBL(pin), low);
}

void pic_init_masked(u8 master_base, u8 slave_base) {
  outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
  outb(0xa0, 0x11);
  outb(0x21, master_base); /* ICW2: vector base */
  outb(0xa1, slave_base);
  outb(0x21, 0x04); /* ICW3: slave on IR2 */
  outb(0xa1, 0x02);
  outb(0x21, 0x01); /* ICW4: 8086 mode, normal EOI */
  outb(0xa1, 0x01);
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
}
