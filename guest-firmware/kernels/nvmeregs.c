/*
 * nvmeregs: finds the NVMe controller (1b36:0010, QEMU's ids) on PCI bus 0, checks its
 * configuration header (class 010802, INTA#, a 64-bit 16 KiB BAR0, an MSI-X capability whose table
 * and PBA are in memory BARs; where they are is printed: toykvm puts them in an 8 KiB BAR4, QEMU 7.2
 * after the registers in BAR0), places BAR0 at 0xe0000000 if nothing placed it (a --kernel machine without
 * firmware), enables memory decoding, and reads the controller's CAP and VS registers through
 * BAR0; it drives no queue (the full driver is nvmetest). Exits through isa-debug-exit: 0 when
 * every check passed (QEMU's status 1), 1 otherwise (status 3).
 */
#include "lib/guest.h"
#include "lib/pci.h"

#define NVME_BAR0 0xe0000000u
#define CAP 0x00
#define VS 0x08
#define MSIX_ID 0x11

void kmain(u32 magic, void *info) {
  (void)info;
  puts("nvmeregs: NVMe registers through BAR0\n");
  check(magic == 0x2BADB002, "multiboot magic");
  struct pci_function f;
  if (!pci_find(0x1b36, 0x0010, &f)) {
    check(0, "an NVMe controller 1b36:0010 on bus 0");
    finish();
  }
  puts("nvme at 00:");
  putx(f.bdf >> 3 & 0x1f);
  puts("\n");
  check(f.class_code == 0x010802, "class 010802 (NVM Express)");
  check(pci_read8(f.bdf, PCI_INTERRUPT_PIN) == 1, "interrupt pin INTA#");
  int kind;
  check(pci_bar_size(f.bdf, 0, &kind) == 0x4000 && kind == PCI_BAR_MEM64, "BAR0: 64-bit, 16 KiB");

  u8 cap = pci_read8(f.bdf, PCI_CAPABILITIES);
  int msix = 0;
  while (cap) {
    if (pci_read8(f.bdf, cap) == MSIX_ID) {
      msix = 1;
      u32 table = pci_read32(f.bdf, (u8)(cap + 4));
      u32 pba = pci_read32(f.bdf, (u8)(cap + 8));
      u32 vectors = (pci_read16(f.bdf, (u8)(cap + 2)) & 0x7ffu) + 1u;
      int table_kind, pba_kind;
      u64 table_bar = pci_bar_size(f.bdf, (int)(table & 7), &table_kind);
      u64 pba_bar = pci_bar_size(f.bdf, (int)(pba & 7), &pba_kind);
      check(table_kind >= PCI_BAR_MEM32 && (table & ~7u) + vectors * 16u <= table_bar,
            "MSI-X table inside a memory BAR");
      check(pba_kind >= PCI_BAR_MEM32 && (pba & ~7u) + (vectors + 63u) / 64u * 8u <= pba_bar,
            "MSI-X PBA inside a memory BAR");
      puts("MSI-X vectors ");
      putu(vectors);
      puts(", table BAR");
      putu(table & 7);
      puts("+");
      putx(table & ~7u);
      puts(" (BAR of ");
      putx((u32)table_bar);
      puts("), PBA BAR");
      putu(pba & 7);
      puts("+");
      putx(pba & ~7u);
      puts("\n");
    }
    cap = pci_read8(f.bdf, (u8)(cap + 1));
  }
  check(msix, "an MSI-X capability");

  u32 bar = pci_read32(f.bdf, PCI_BAR0) & ~0xfu;
  u32 bar_high = pci_read32(f.bdf, PCI_BAR0 + 4);
  if (bar == 0 && bar_high == 0) {
    pci_write32(f.bdf, PCI_BAR0, NVME_BAR0);
    pci_write32(f.bdf, PCI_BAR0 + 4, 0);
    bar = NVME_BAR0;
    puts("BAR0 placed by the guest\n");
  }
  check(bar_high == 0, "BAR0 below 4 GiB");
  pci_write16(f.bdf, PCI_COMMAND, (u16)(pci_read16(f.bdf, PCI_COMMAND) | PCI_COMMAND_MEMORY));

  u32 cap_lo = mmio_read32(bar + CAP);
  u32 cap_hi = mmio_read32(bar + CAP + 4);
  u32 vs = mmio_read32(bar + VS);
  puts("CAP ");
  putx(cap_hi);
  putc(':');
  putx(cap_lo);
  puts(" VS ");
  putx(vs);
  puts("\n");
  check(vs == 0x00010400u, "VS: NVMe 1.4");
  check((cap_hi >> 5 & 1) == 1, "CAP.CSS: the NVM command set");
  check((cap_hi & 0xf) == 0, "CAP.DSTRD = 0: doorbells 4 bytes apart");
  check((cap_lo & 0xffff) >= 1, "CAP.MQES: queues of at least 2 entries");
  check((cap_lo >> 16 & 1) == 1, "CAP.CQR: queues physically contiguous");
  finish();
}
