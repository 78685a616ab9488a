/*
 * The interrupt part of the C guest library (lib/intr.c): a flat GDT and an IDT of the guest's
 * own, the local APIC (xAPIC at 0xfee00000), the I/O APIC (0xfec00000) and the 8259 pair. Linked
 * only into the kernels listed in INTR_KERNELS in the Makefile.
 */
#ifndef TOYKVM_INTR_H
#define TOYKVM_INTR_H

#include "guest.h"

/* ---- GDT and IDT: selectors 0x08 (flat 32-bit code) and 0x10 (flat data) ---- */
/* Loads the GDT, reloads every segment, and loads an IDT whose 256 gates all lead to a handler
 * that prints "unexpected interrupt or exception" and exits with status 1 (QEMU: 3). */
void tables_init(void);
/* Loads the IDT tables_init built on this CPU (an AP that shares the BSP's gates). */
void idt_load(void);
/* A 32-bit interrupt gate (IF cleared on entry) for vector. */
void idt_set(int vector, void (*entry)(void));
/* An interrupt entry named `entry` that saves the general registers, calls `void handler(void)`
 * and returns with iret. Use at file scope; declare `void entry(void);` to take its address. */
#define INTERRUPT_ENTRY(entry, handler)                                                         \
  __asm__(".text\n.globl " #entry "\n" #entry ":\n  pusha\n  cld\n  call " #handler            \
          "\n  popa\n  iret\n")
/* An entry that only returns: for the spurious vector, which needs no EOI. */
void iret_entry(void);

/* ---- the local APIC ---- */
#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_EOI 0xb0
#define LAPIC_SPIV 0xf0
#define LAPIC_ISR 0x100 /* 8 registers of 32 vectors, 0x10 apart */
#define LAPIC_TMR 0x180
#define LAPIC_IRR 0x200
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
static inline u32 lapic_read(u32 reg) { return mmio_read32(LAPIC_BASE + reg); }
static inline void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC_BASE + reg, v); }
static inline void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }
/* Whether vector's bit is set in the ISR, TMR or IRR (base LAPIC_ISR, _TMR or _IRR). */
int lapic_bit(u32 base, u8 vector);
/* Software-enables the local APIC with this spurious vector. */
void lapic_enable(u8 spurious);

/* The local APIC timer as a clock: one-shot, divided by 128 (the APIC bus runs at 1 GHz on KVM,
 * QEMU and toykvm, so 7812 ticks a millisecond; at most about 549 s). lvt is the LVT timer entry:
 * a vector for an interrupt at expiry, or LVT_MASKED for a deadline that is only polled. */
#define LAPIC_TIMER_TICKS_PER_MS 7812u
void lapic_timer_start(u32 ms, u32 lvt);
/* Whether the one-shot timer started last on this CPU has run out. */
static inline int lapic_timer_expired(void) { return lapic_read(LAPIC_TIMER_CURRENT) == 0; }
void lapic_timer_stop(void);

/* ---- the I/O APIC: IOREGSEL at +0, IOWIN at +0x10 ---- */
#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_ID 0x00
#define IOAPIC_VERSION 0x01
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define REDIR_LEVEL (1u << 15)
#define REDIR_REMOTE_IRR (1u << 14)
#define REDIR_ACTIVE_LOW (1u << 13)
#define REDIR_PENDING (1u << 12) /* delivery status */
#define REDIR_MASKED (1u << 16)
u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 v);
/* Redirection entry of pin: `low` (vector, modes, mask) to physical APIC ID dest. */
void ioapic_route(u32 pin, u32 low, u8 dest);
static inline u32 ioapic_entry(u32 pin) { return ioapic_read(IOAPIC_REDTBL(pin)); }

/* ---- the 8259 pair ---- */
/* Initialises both 8259s (edge, cascade on IR2, 8086 mode) with IRQ 0-7 at master_base and 8-15
 * at slave_base, every IRQ masked. */
void pic_init_masked(u8 master_base, u8 slave_base);

#endif
