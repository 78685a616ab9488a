/*
 * smp: a multiboot SMP test kernel. The BSP reads the CPU count from fw_cfg, starts the
 * application processors with INIT-SIPI-SIPI through its local APIC's ICR (AP 1 by APIC ID, then
 * every AP with the all-excluding-self shorthand, which also restarts AP 1), each AP switches to
 * protected mode and checks in (an atomic increment, its APIC ID in a table); then the BSP sends
 * each AP a fixed IPI and an NMI and checks that they arrived. Prints on COM1 and exits through
 * isa-debug-exit: 0 when every check passed (status 1 in QEMU's mode), 1 otherwise (status 3).
 *
 * With "hammer=K" on its command line (toykvm: --append hammer=K, and a test device with
 * --device testdev,mmio=0xfeb00000,size=0x1000,route=R), every AP then makes K writes and K reads
 * of the one test device at once, and the BSP checks that the device saw every access and that
 * every read returned a value some CPU wrote: a device reached by several vCPUs at the same time.
 */
#include "lib/smp.h"

#define IPI_VECTOR 0x40
#define MAX_CPUS SMP_MAX_CPUS
#define AP_STACKS SMP_AP_STACKS

extern void ipi_isr(void), nmi_isr(void);

/* Shared with the handlers (smp-ap.S). */
volatile u32 ipi_hits[MAX_CPUS], nmi_hits[MAX_CPUS];
static volatile u32 checkins;
static volatile u32 table[AP_STACKS];
static u64 idt[256];
static struct { u16 limit; u32 base; } __attribute__((packed)) idtr;

/* The test device (devices/TestDevice.java): DATA at 0, DATA_MIRROR at 8, ACCESS_COUNT at 0x18. */
#define TESTDEV 0xfeb00000u
#define TESTDEV_DATA 0x00
#define TESTDEV_MIRROR 0x08
#define TESTDEV_COUNT 0x18
#define HAMMER_MARK 0xa5000000u
static volatile u32 hammer_rounds; /* K, set by the BSP before it sends the go */
static volatile u32 hammer_go, hammer_done, hammer_bad;

#define LAPIC_SPIV 0xf0

static void set_gate(int vector, void (*handler)(void)) {
  u32 h = (u32)handler;
  idt[vector] = (h & 0xffff) | 0x08ull << 16 | 0x8eull << 40 | (u64)(h >> 16) << 48;
}

/* Every CPU: the shared IDT and its local APIC software-enabled. */
static void cpu_setup(void) {
  __asm__ volatile("lidt %0" : : "m"(idtr));
  mmio_write32(0xfee00000u + LAPIC_SPIV, 0x1ff);
}

/* An AP, in protected mode with its own stack (lib/smp-tramp.S). */
static void ap_main(void) {
  cpu_setup();
  u32 slot = __atomic_fetch_add(&checkins, 1, __ATOMIC_SEQ_CST);
  u32 id = smp_apic_id();
  if (slot < AP_STACKS) table[slot] = id;
  while (!hammer_go) __asm__ volatile("sti; hlt"); /* the go comes with an IPI */
  u32 bad = 0;
  for (u32 i = 0; i < hammer_rounds; i++) {
    mmio_write32(TESTDEV + TESTDEV_DATA, HAMMER_MARK | id << 16 | (i & 0xffff));
    bad += (mmio_read32(TESTDEV + TESTDEV_MIRROR) & 0xff000000u) != HAMMER_MARK;
  }
  __atomic_fetch_add(&hammer_bad, bad, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&hammer_done, 1, __ATOMIC_SEQ_CST);
  for (;;) __asm__ volatile("sti; hlt");
}

/* K from "hammer=K" in the multiboot command line (after the file name), or 0. */
static u32 hammer_arg(u32 *info) {
  if (!(info[0] & (1u << 2))) return 0;
  const char *s = (const char *)info[4];
  for (; *s; s++) {
    if (s[0] == 'h' && s[1] == 'a' && s[2] == 'm' && s[3] == 'm' && s[4] == 'e' && s[5] == 'r' &&
        s[6] == '=') {
      u32 k = 0;
      for (s += 7; *s >= '0' && *s <= '9'; s++) k = k * 10 + (u32)(*s - '0');
      return k;
    }
  }
  return 0;
}

static void hammer(u32 cpus, u32 rounds) {
  puts("smp: ");
  putu(cpus - 1);
  puts(" APs x ");
  putu(rounds);
  puts(" writes and reads of one test device\n");
  u32 before = mmio_read32(TESTDEV + TESTDEV_COUNT);
  hammer_rounds = rounds;
  __atomic_store_n(&hammer_go, 1, __ATOMIC_SEQ_CST);
  smp_send_ipi(0, ICR_FIXED | ICR_ALL_BUT_SELF | IPI_VECTOR);
  check(smp_wait_for(&hammer_done, cpus - 1), "every AP finished its accesses");
  u32 after = mmio_read32(TESTDEV + TESTDEV_COUNT);
  check(after - before == 1 + 2 * rounds * (cpus - 1), "the device saw every access once");
  check(hammer_bad == 0, "every read returned a value a CPU wrote");
}

void kmain(u32 magic, u32 *info) {
  smp_load_gdt();
  puts("smp: SMP test kernel\n");
  check(magic == 0x2BADB002, "multiboot magic");
  u32 max_cpus = 0;
  u32 cpus = smp_cpu_count(&max_cpus);
  puts("smp: ");
  putu(cpus);
  puts(" CPU(s), fw_cfg max ");
  putu(max_cpus);
  puts("\n");
  check(cpus >= 1 && cpus <= MAX_CPUS && max_cpus >= cpus, "fw_cfg CPU count");
  check(smp_apic_id() == 0, "the BSP has APIC ID 0");

  idtr.limit = sizeof idt - 1;
  idtr.base = (u32)idt;
  set_gate(2, nmi_isr);
  set_gate(IPI_VECTOR, ipi_isr);
  cpu_setup();
  smp_prepare(ap_main);

  if (cpus >= 2) {
    smp_start(1, 0);
    check(smp_wait_for(&checkins, 1), "AP 1 started by APIC ID checked in");
    smp_start(0, ICR_ALL_BUT_SELF);
    check(smp_wait_for(&checkins, cpus), "every AP (re)started by all-excluding-self checked in");
    u32 seen[MAX_CPUS] = {0};
    puts("smp: check-in table:");
    for (u32 i = 0; i < checkins && i < AP_STACKS; i++) {
      if (table[i] < MAX_CPUS) seen[table[i]]++;
    }
    for (u32 id = 1; id < cpus; id++) {
      puts(" ");
      putu(id);
      puts("x");
      putu(seen[id]);
    }
    puts("\n");
    for (u32 id = 1; id < cpus; id++) {
      check(seen[id] == (id == 1 ? 2u : 1u), "AP checked in with its APIC ID");
      smp_send_ipi(id, ICR_FIXED | IPI_VECTOR);
      check(smp_wait_for(&ipi_hits[id], 1), "fixed IPI reached the AP");
      smp_send_ipi(id, ICR_NMI);
      check(smp_wait_for(&nmi_hits[id], 1), "NMI reached the AP");
    }
    check(ipi_hits[0] == 0 && nmi_hits[0] == 0, "nothing came back to the BSP");
    u32 rounds = hammer_arg(info);
    if (rounds) hammer(cpus, rounds);
  }
  finish();
}
