/* AP start-up for the C guests (see smp.h). */
#include "smp.h"

#define LAPIC 0xfee00000u
#define LAPIC_ID 0x20

extern char smp_trampoline[], smp_trampoline_end[];

/* Shared with the trampoline (smp-tramp.S). */
volatile u32 smp_stack_next;
u8 smp_stacks[(SMP_AP_STACKS + 1) * 4096] __attribute__((aligned(4096)));
void (*volatile smp_ap_main)(void);

u32 smp_cpu_count(u32 *max) {
  u16 cpus = 0, max_cpus = 0;
  fw_select(FW_CFG_NB_CPUS);
  fw_read(&cpus, 2);
  if (max) {
    fw_select(FW_CFG_MAX_CPUS);
    fw_read(&max_cpus, 2);
    *max = max_cpus;
  }
  return cpus;
}

u32 smp_apic_id(void) { return mmio_read32(LAPIC + LAPIC_ID) >> 24; }

void smp_prepare(void (*ap_main)(void)) {
  smp_ap_main = ap_main;
  memcpy((void *)SMP_AP_BASE, smp_trampoline, (u32)(smp_trampoline_end - smp_trampoline));
}

void smp_send_ipi(u32 dest, u32 low) {
  mmio_write32(LAPIC + LAPIC_ICR_HIGH, dest << 24);
  mmio_write32(LAPIC + LAPIC_ICR_LOW, low);
  u32 spins = 0;
  while ((mmio_read32(LAPIC + LAPIC_ICR_LOW) & ICR_BUSY) && ++spins < SMP_SPIN_LIMIT)
    __asm__ volatile("pause");
}

void smp_start(u32 dest, u32 shorthand) {
  smp_send_ipi(dest, ICR_INIT | shorthand);
  smp_send_ipi(dest, ICR_STARTUP | shorthand | (SMP_AP_BASE >> 12));
  smp_send_ipi(dest, ICR_STARTUP | shorthand | (SMP_AP_BASE >> 12));
}

int smp_wait_for(volatile u32 *p, u32 want) {
  for (u32 spins = 0; spins < SMP_SPIN_LIMIT; spins++) {
    if (*p >= want) return 1;
    __asm__ volatile("pause");
  }
  return 0;
}
