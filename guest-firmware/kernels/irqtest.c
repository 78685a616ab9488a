/*
 * irqtest: a multiboot kernel that takes a device's interrupts through the I/O APIC and as an MSI,
 * the device being toykvm's test device in its own process (devices/TestDevice.java), whose
 * registers raise its irqfds:
 *
 *   ./toykvm run --kernel irqtest.elf --device testdev,mmio=0xfeb00000,size=0x1000,irq=10,\
 *     edge-irq=11+24+25,msi=24:0xfee00000:0x61+25:0xfee01000:0x62
 *
 * (a) Level: I/O APIC pin 10 level-triggered at vector 0x50; the device raises GSI 10 and holds it
 *     (an irqfd with resample). Each handler checks Remote IRR and the TMR bit, and EOIs; while the
 *     device holds the line, the EOI resamples it and the interrupt comes again. The third handler
 *     lowers the line (IRQ_LOWER) before its EOI: then Remote IRR is clear and nothing more comes.
 * (b) Edge: pin 11 edge-triggered at vector 0x51; one pulse (IRQ_PULSE), one interrupt.
 * (c) MSI: the device pulses GSI 24, which the VMM routes as an MSI (msi=24:0xfee00000:0x61, to
 *     APIC ID 0 at vector 0x61): three pulses, three interrupts, each in the local APIC's ISR.
 *     GSI 25's MSI names APIC ID 1 (msi=25:0xfee01000:0x62): APIC 0 must not take it.
 *
 * Every wait sleeps in hlt under a local APIC timer watchdog, so a lost interrupt is a FAIL, not a
 * hang. With "nodev" on the command line only the controllers' identity and the redirection
 * entries are checked: what QEMU (qemu-system-i386 -kernel irqtest.elf -append nodev) can run.
 * Prints on COM1, exits through isa-debug-exit: 0 when every check passed (QEMU's status 1).
 */
#include "lib/intr.h"

#define TESTDEV 0xfeb00000u
#define TESTDEV_DATA 0x00
#define IRQ_PULSE 0x40
#define IRQ_RAISE 0x48
#define IRQ_LOWER 0x50
#define IRQ_RAISED 0x58

#define LEVEL_GSI 10
#define EDGE_GSI 11
#define MSI_GSI 24
#define MSI_ELSEWHERE_GSI 25
#define LEVEL_VECTOR 0x50
#define EDGE_VECTOR 0x51
#define MSI_VECTOR 0x61
#define MSI_ELSEWHERE_VECTOR 0x62
#define WATCHDOG_VECTOR 0x40
#define SPURIOUS_VECTOR 0xff
#define LEVEL_ROUNDS 3
#define MSI_PULSES 3

/* The local APIC timer at 1 GHz / 16 (KVM, QEMU and toykvm count at 1 GHz). */
#define TICKS_PER_MS 62500u
#define WATCHDOG_MS 5000u
#define QUIET_MS 50u

static volatile u32 level_count, level_remote_irr, level_tmr, level_in_isr;
static volatile u32 edge_count, edge_remote_irr, edge_tmr;
static volatile u32 msi_count, msi_in_isr, msi_tmr, msi_elsewhere;
static volatile u32 timer_fired;

static void dev_write(u32 reg, u32 v) { mmio_write32(TESTDEV + reg, v); }
static u32 dev_read(u32 reg) { return mmio_read32(TESTDEV + reg); }

void level_interrupt(void) __attribute__((used));
void level_interrupt(void) {
  u32 n = ++level_count;
  level_remote_irr += (ioapic_entry(LEVEL_GSI) & REDIR_REMOTE_IRR) != 0;
  level_tmr += lapic_bit(LAPIC_TMR, LEVEL_VECTOR);
  level_in_isr += lapic_bit(LAPIC_ISR, LEVEL_VECTOR);
  if (n >= LEVEL_ROUNDS) dev_write(IRQ_LOWER, LEVEL_GSI);
  lapic_eoi();
}

void edge_interrupt(void) __attribute__((used));
void edge_interrupt(void) {
  edge_count++;
  edge_remote_irr += (ioapic_entry(EDGE_GSI) & REDIR_REMOTE_IRR) != 0;
  edge_tmr += lapic_bit(LAPIC_TMR, EDGE_VECTOR);
  lapic_eoi();
}

void msi_interrupt(void) __attribute__((used));
void msi_interrupt(void) {
  msi_count++;
  msi_in_isr += lapic_bit(LAPIC_ISR, MSI_VECTOR);
  msi_tmr += lapic_bit(LAPIC_TMR, MSI_VECTOR);
  lapic_eoi();
}

void msi_elsewhere_interrupt(void) __attribute__((used));
void msi_elsewhere_interrupt(void) {
  msi_elsewhere++;
  lapic_eoi();
}

void timer_interrupt(void) __attribute__((used));
void timer_interrupt(void) {
  timer_fired = 1;
  lapic_eoi();
}

void level_entry(void), edge_entry(void), msi_entry(void), msi_elsewhere_entry(void);
void timer_entry(void);
INTERRUPT_ENTRY(level_entry, level_interrupt);
INTERRUPT_ENTRY(edge_entry, edge_interrupt);
INTERRUPT_ENTRY(msi_entry, msi_interrupt);
INTERRUPT_ENTRY(msi_elsewhere_entry, msi_elsewhere_interrupt);
INTERRUPT_ENTRY(timer_entry, timer_interrupt);

/* A one-shot local APIC timer interrupt after ms milliseconds. */
static void timer_arm(u32 ms) {
  timer_fired = 0;
  lapic_write(LAPIC_LVT_TIMER, WATCHDOG_VECTOR);
  lapic_write(LAPIC_TIMER_INITIAL, ms * TICKS_PER_MS);
}

static void timer_disarm(void) {
  lapic_write(LAPIC_TIMER_INITIAL, 0);
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | WATCHDOG_VECTOR);
}

/* Sleeps in hlt until *count reaches want or the watchdog fires; whether it reached want. */
static int wait_for(volatile u32 *count, u32 want) {
  timer_arm(WATCHDOG_MS);
  for (;;) {
    __asm__ volatile("cli" ::: "memory");
    if (*count >= want || timer_fired) break;
    __asm__ volatile("sti; hlt" ::: "memory"); /* sti's shadow: no wake-up lost before hlt */
  }
  timer_disarm();
  return *count >= want;
}

/* Sleeps QUIET_MS with interrupts on: whatever else was coming has had time to come. */
static void quiet(void) {
  timer_arm(QUIET_MS);
  while (!timer_fired) __asm__ volatile("sti; hlt; cli" ::: "memory");
  timer_disarm();
}

static int has_word(u32 *info, const char *word) {
  if (!(info[0] & (1u << 2))) return 0;
  u32 n = strlen(word);
  for (const char *s = (const char *)info[4]; *s; s++) {
    if ((s == (const char *)info[4] || s[-1] == ' ') && !memcmp(s, word, n) &&
        (s[n] == 0 || s[n] == ' '))
      return 1;
  }
  return 0;
}

static void controllers(void) {
  u32 lapic_version = lapic_read(LAPIC_VERSION);
  u32 ioapic_version = ioapic_read(IOAPIC_VERSION);
  puts("local APIC version ");
  putx(lapic_version & 0xff);
  puts(", I/O APIC version ");
  putx(ioapic_version & 0xff);
  puts("\n");
  check(lapic_read(LAPIC_ID) >> 24 == 0, "local APIC ID 0");
  check((lapic_version & 0xf0) == 0x10 && ((lapic_version >> 16) & 0xff) >= 4,
        "local APIC: integrated (version 0x1X), at least 5 LVT entries");
  check(((ioapic_version >> 16) & 0xff) == 23, "I/O APIC: 24 redirection entries");
  check(ioapic_read(IOAPIC_ID) >> 24 == 0, "I/O APIC ID 0");
  u32 low = REDIR_MASKED | REDIR_LEVEL | LEVEL_VECTOR;
  ioapic_route(LEVEL_GSI, low, 0);
  check(ioapic_entry(LEVEL_GSI) == low && ioapic_read(IOAPIC_REDTBL(LEVEL_GSI) + 1) == 0,
        "redirection entry 10 reads back (masked, level, vector 0x50)");
  ioapic_route(EDGE_GSI, REDIR_MASKED | EDGE_VECTOR, 0);
  check((ioapic_entry(EDGE_GSI) & (REDIR_REMOTE_IRR | REDIR_PENDING)) == 0,
        "redirection entry 11: no Remote IRR, not pending");
}

static void level(void) {
  puts("(a) level-triggered I/O APIC pin 10, the device's line held raised\n");
  ioapic_route(LEVEL_GSI, REDIR_LEVEL | LEVEL_VECTOR, 0);
  dev_write(IRQ_RAISE, LEVEL_GSI);
  check(dev_read(IRQ_RAISED) == 1u << LEVEL_GSI, "the device holds GSI 10 raised");
  check(wait_for(&level_count, 1), "the level interrupt arrived");
  check(wait_for(&level_count, LEVEL_ROUNDS), "the line still raised: each EOI brings it again");
  check(dev_read(IRQ_RAISED) == 0, "the third handler lowered the line before its EOI");
  quiet();
  check(level_count == LEVEL_ROUNDS, "lowered: no interrupt after the last EOI");
  check(level_remote_irr == level_count, "Remote IRR set in every handler");
  check(level_tmr == level_count && level_in_isr == level_count, "in the ISR and TMR (level)");
  check((ioapic_entry(LEVEL_GSI) & REDIR_REMOTE_IRR) == 0, "Remote IRR clear after the EOI");
  ioapic_route(LEVEL_GSI, REDIR_MASKED | REDIR_LEVEL | LEVEL_VECTOR, 0);
}

static void edge(void) {
  puts("(b) edge-triggered I/O APIC pin 11, one pulse\n");
  ioapic_route(EDGE_GSI, EDGE_VECTOR, 0);
  dev_write(IRQ_PULSE, EDGE_GSI);
  check(wait_for(&edge_count, 1), "the edge interrupt arrived");
  quiet();
  check(edge_count == 1, "one pulse, one interrupt");
  check(edge_remote_irr == 0 && edge_tmr == 0, "edge: no Remote IRR, not in the TMR");
  ioapic_route(EDGE_GSI, REDIR_MASKED | EDGE_VECTOR, 0);
}

static void msi(void) {
  puts("(c) MSI: GSI 24 routed to APIC 0, vector 0x61\n");
  int all = 1;
  for (u32 i = 1; i <= MSI_PULSES; i++) {
    dev_write(IRQ_PULSE, MSI_GSI);
    if (!wait_for(&msi_count, i)) {
      all = 0; /* one watchdog is enough to say so */
      break;
    }
  }
  check(all, "three pulses: each MSI arrived");
  quiet();
  check(msi_count == MSI_PULSES, "three MSIs counted, no more");
  check(msi_in_isr == MSI_PULSES && msi_tmr == 0, "vector 0x61 in the local APIC's ISR (edge)");
  dev_write(IRQ_PULSE, MSI_ELSEWHERE_GSI);
  quiet();
  check(msi_elsewhere == 0, "an MSI to APIC ID 1 does not reach APIC 0");
}

void kmain(u32 magic, u32 *info) {
  (void)magic;
  puts("irqtest: device interrupts through the I/O APIC and as an MSI\n");
  tables_init();
  idt_set(LEVEL_VECTOR, level_entry);
  idt_set(EDGE_VECTOR, edge_entry);
  idt_set(MSI_VECTOR, msi_entry);
  idt_set(MSI_ELSEWHERE_VECTOR, msi_elsewhere_entry);
  idt_set(WATCHDOG_VECTOR, timer_entry);
  idt_set(SPURIOUS_VECTOR, iret_entry);
  pic_init_masked(0x20, 0x28); /* the 8259s out of the way (the firmware may leave IRQ 0 on) */
  lapic_enable(SPURIOUS_VECTOR);
  lapic_write(LAPIC_TIMER_DIVIDE, 0x3); /* divide by 16 */
  timer_disarm();
  controllers();
  if (has_word(info, "nodev")) {
    puts("nodev: no test device, the controllers only\n");
    finish();
  }
  dev_write(TESTDEV_DATA, 0x5a5a1234);
  check(dev_read(TESTDEV_DATA) == 0x5a5a1234, "the test device answers at 0xfeb00000");
  if (failures) finish();
  level();
  edge();
  msi();
  finish();
}
