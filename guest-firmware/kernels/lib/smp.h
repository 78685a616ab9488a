/*
 * SMP for the C guests (lib/smp.c, lib/smp-tramp.S): the CPU count from fw_cfg, the GDT every CPU
 * shares, and the start of the application processors with INIT-SIPI-SIPI through the local
 * APIC's ICR. Each AP runs a real-mode trampoline copied to SMP_AP_BASE, enters 32-bit protected
 * mode on the shared GDT (0x08 flat code, 0x10 flat data), takes a 4 KiB stack of its own with
 * `lock xadd` (an AP restarted by INIT takes a new one) and calls the entry given to smp_prepare.
 * Linked only into the kernels whose Makefile rules name SMP_OBJS (smp, nvmetest).
 */
#ifndef TOYKVM_SMP_H
#define TOYKVM_SMP_H

#include "guest.h"

#define SMP_MAX_CPUS 16
#define SMP_AP_STACKS 32
/* Where the trampoline is copied: the APs start at CS=0x7000, IP=0 (SIPI vector 0x70). */
#define SMP_AP_BASE 0x70000u
#define SMP_SPIN_LIMIT 200000000u

#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_INIT 0x4500u    /* INIT, level assert */
#define ICR_STARTUP 0x4600u /* start-up, vector = page */
#define ICR_FIXED 0x4000u
#define ICR_NMI 0x4400u
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_BUSY (1u << 12)

/* The CPU count fw_cfg reports (key 0x05); *max gets its maximum (key 0x0f) if max is not 0. */
u32 smp_cpu_count(u32 *max);
/* Loads the shared GDT on this CPU and reloads every segment register. */
void smp_load_gdt(void);
/* This CPU's local APIC ID. */
u32 smp_apic_id(void);
/* Copies the trampoline to SMP_AP_BASE; every AP started from now on calls ap_main (which must
 * not return) on its own stack. */
void smp_prepare(void (*ap_main)(void));
/* Sends one IPI (ICR low word `low`, destination APIC ID dest) and waits until it is sent. */
void smp_send_ipi(u32 dest, u32 low);
/* INIT, SIPI, SIPI to dest, or to the shorthand's CPUs (ICR_ALL_BUT_SELF; 0 for dest). */
void smp_start(u32 dest, u32 shorthand);
/* Spins until *p reaches want, at most SMP_SPIN_LIMIT times: whether it did. */
int smp_wait_for(volatile u32 *p, u32 want);

#endif
