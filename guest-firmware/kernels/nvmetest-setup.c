/*
 * nvmetest's PCI and interrupt set-up: the controller found by its class, BAR0 (and the MSI-X
 * table's BAR) taken as firmware placed it or placed here, the MSI-X table programmed, or the INTx
 * line routed on the I/O APIC or the 8259. Nothing here assumes which BAR holds what: the MSI-X
 * table is wherever the capability says.
 */
#include "nvmetest.h"
#include "lib/intr.h"
#include "lib/pci.h"

#define NVME_CLASS 0x010802
#define PCI_CAP_MSIX 0x11
#define MSIX_ENABLE 0x8000
#define MSIX_FUNCTION_MASK 0x4000
#define ELCR 0x4d0 /* the PIIX's edge/level control registers, IRQ 0-7 and 8-15 */
#define LAPIC_LVT_LINT0 0x350
#define LVT_EXTINT 0x700

static struct pci_function funcs[32];

static void put_hex4(u16 v) {
  static const char digits[] = "0123456789abcdef";
  for (int shift = 12; shift >= 0; shift -= 4) putc(digits[(v >> shift) & 0xf]);
}
static int nfuncs;

static u64 bar_address(u16 bdf, int bar, int kind) {
  u8 reg = (u8)(PCI_BAR0 + 4 * bar);
  u64 a = pci_read32(bdf, reg) & ~0xfu;
  if (kind == PCI_BAR_MEM64) a |= (u64)pci_read32(bdf, (u8)(reg + 4)) << 32;
  return a;
}

/* The lowest address from 0xe0000000, aligned to size, below the I/O APIC, that no other memory
 * BAR of bus 0 uses: where firmware would have put it (the VMM's --kernel placement starts there
 * too); 0 if there is no room. */
static u32 free_window(u64 size, u16 self, int self_bar) {
  u64 at = 0xe0000000u;
  for (int again = 1; again;) {
    again = 0;
    for (int i = 0; i < nfuncs && i < 32; i++) {
      for (int bar = 0; bar < 6; bar++) {
        int kind;
        u64 sz = pci_bar_size(funcs[i].bdf, bar, &kind);
        int memory = kind == PCI_BAR_MEM32 || kind == PCI_BAR_MEM64;
        if (memory && !(funcs[i].bdf == self && bar == self_bar)) {
          u64 a = bar_address(funcs[i].bdf, bar, kind);
          if (a && a < at + size && at < a + sz) {
            at = (a + sz + size - 1) & ~(size - 1);
            again = 1;
          }
        }
        if (kind == PCI_BAR_MEM64) bar++; /* its upper half */
      }
    }
  }
  return at + size <= 0xfec00000u ? (u32)at : 0;
}

/* A memory BAR's address below 4 GiB: as firmware left it, or placed here if it is unassigned,
 * above 4 GiB (this kernel does not page) or place asks for it. */
static u32 memory_bar(u16 bdf, int bar, int place, u64 *size) {
  int kind;
  *size = pci_bar_size(bdf, bar, &kind);
  if (kind != PCI_BAR_MEM32 && kind != PCI_BAR_MEM64) fail_now("the BAR is not a memory BAR", 0);
  u8 reg = (u8)(PCI_BAR0 + 4 * bar);
  if (place) {
    pci_write32(bdf, reg, 0);
    if (kind == PCI_BAR_MEM64) pci_write32(bdf, (u8)(reg + 4), 0);
  }
  u64 a = bar_address(bdf, bar, kind);
  if (a == 0 || a >= 0x100000000ull) {
    u32 at = free_window(*size, bdf, bar);
    if (!at) fail_now("no room below the I/O APIC to place the BAR", 0);
    pci_write32(bdf, reg, at);
    if (kind == PCI_BAR_MEM64) pci_write32(bdf, (u8)(reg + 4), 0);
    a = bar_address(bdf, bar, kind);
    lock();
    puts("nvmetest: BAR");
    putu((u32)bar);
    puts(place ? " cleared (place): placed at " : " unassigned: placed at ");
    putx((u32)a);
    puts("\n");
    unlock();
  }
  return (u32)a;
}

static u8 find_capability(u16 bdf, u8 id) {
  if (!(pci_read16(bdf, PCI_STATUS) & 0x10)) return 0;
  u8 at = pci_read8(bdf, PCI_CAPABILITIES) & 0xfc;
  for (int hops = 0; at && hops < 48; hops++) {
    if (pci_read8(bdf, at) == id) return at;
    at = pci_read8(bdf, (u8)(at + 1)) & 0xfc;
  }
  return 0;
}

u16 find_controller(int place) {
  nfuncs = pci_enumerate(funcs, 32);
  for (int i = 0; i < nfuncs && i < 32; i++) {
    if (funcs[i].class_code != NVME_CLASS) continue;
    u16 bdf = funcs[i].bdf;
    u64 size;
    ctrl.bar = memory_bar(bdf, 0, place, &size);
    lock();
    puts("nvmetest: controller at 00:");
    putc((char)('0' + (bdf >> 3) / 10));
    putc((char)('0' + (bdf >> 3) % 10));
    puts(".");
    putu(bdf & 7);
    puts(" (");
    put_hex4(funcs[i].vendor);
    puts(":");
    put_hex4(funcs[i].device);
    puts("), BAR0 ");
    putx(ctrl.bar);
    puts(" (");
    putu((u32)(size >> 10));
    puts(" KiB), interrupt pin ");
    putu(pci_read8(bdf, PCI_INTERRUPT_PIN));
    puts(" line ");
    putu(pci_read8(bdf, PCI_INTERRUPT_LINE));
    puts("\n");
    unlock();
    return bdf;
  }
  fail_now("no NVMe controller (PCI class 010802) on bus 0", 0);
}

u32 setup_msix(u16 bdf, u32 vectors, const u32 *dest, void (*const *entries)(void), u8 base) {
  u8 cap = find_capability(bdf, PCI_CAP_MSIX);
  if (!cap) fail_now("no MSI-X capability", 0);
  u16 control = pci_read16(bdf, (u8)(cap + 2));
  u32 table_size = (control & 0x7ffu) + 1;
  u32 table = pci_read32(bdf, (u8)(cap + 4));
  int bir = (int)(table & 7);
  u64 bar_size;
  u32 bar = bir == 0 ? ctrl.bar : memory_bar(bdf, bir, 0, &bar_size);
  u32 at = bar + (table & ~7u);
  if (vectors > table_size) vectors = table_size; /* the queues follow the vectors there are */
  if (vectors < 2) fail_now("the MSI-X table has no vector for an I/O queue", 0);
  /* Enabled with the function masked while the entries are written, then unmasked. */
  pci_write16(bdf, (u8)(cap + 2), (u16)(control | MSIX_ENABLE | MSIX_FUNCTION_MASK));
  for (u32 v = 0; v < vectors; v++) {
    idt_set((int)(base + v), entries[v]);
    u32 entry = at + 16 * v;
    mmio_write32(entry, 0xfee00000u | dest[v] << 12); /* to that local APIC, physical */
    mmio_write32(entry + 4, 0);
    mmio_write32(entry + 8, base + v); /* fixed, edge */
    mmio_write32(entry + 12, 0);       /* unmasked */
  }
  pci_write16(bdf, (u8)(cap + 2), (u16)((control | MSIX_ENABLE) & ~MSIX_FUNCTION_MASK));
  lock();
  puts("nvmetest: MSI-X: ");
  putu(table_size);
  puts(" vectors, table in BAR");
  putu((u32)bir);
  puts(" at +");
  putx(table & ~7u);
  puts(", ");
  putu(vectors);
  puts(" used\n");
  unlock();
  return vectors;
}

u32 setup_intx(u16 bdf, int force_pic, void (*entry)(void), u8 ioapic_vector, u8 pic_base,
               u8 dest, u32 *on_pic) {
  u32 line = pci_read8(bdf, PCI_INTERRUPT_LINE);
  if (pci_read8(bdf, PCI_INTERRUPT_PIN) == 0 || line == 0 || line >= 16)
    fail_now("no INTx: interrupt pin or line unset in config space", 0);
  nvme_write32(&ctrl, NVME_INTMS, 1); /* nothing until the route is in place */
  *on_pic = force_pic || ioapic_read(IOAPIC_VERSION) == 0xffffffffu;
  if (*on_pic) {
    /* The 8259: level-triggered by ELCR, delivered as ExtINT through LINT0. */
    idt_set(pic_base + (int)line, entry);
    u16 elcr = (u16)(ELCR + line / 8);
    outb(elcr, (u8)(inb(elcr) | 1u << (line % 8)));
    lapic_write(LAPIC_LVT_LINT0, LVT_EXTINT);
    if (line >= 8) {
      outb(0x21, (u8)~(1u << 2)); /* the cascade */
      outb(0xa1, (u8)~(1u << (line - 8)));
    } else {
      outb(0x21, (u8)~(1u << line));
    }
  } else {
    idt_set(ioapic_vector, entry);
    ioapic_route(line, REDIR_LEVEL | ioapic_vector, dest); /* PCI INTx: level, active high */
  }
  lock();
  puts("nvmetest: INTx: line ");
  putu(line);
  puts(*on_pic ? " on the 8259 (level, ELCR)\n" : " on the I/O APIC (level, active high)\n");
  unlock();
  nvme_write32(&ctrl, NVME_INTMC, 1);
  return line;
}
