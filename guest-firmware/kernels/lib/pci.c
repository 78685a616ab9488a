/* PCI configuration mechanism #1, bus 0 enumeration and BAR sizing (see pci.h). */
#include "pci.h"

static void select(u16 bdf, u8 reg) { outl(PCI_CONFIG_ADDRESS, 0x80000000u | (u32)bdf << 8 | (reg & 0xfc)); }

u32 pci_read32(u16 bdf, u8 reg) {
  select(bdf, reg);
  return inl(PCI_CONFIG_DATA);
}

u16 pci_read16(u16 bdf, u8 reg) {
  select(bdf, reg);
  return inw(PCI_CONFIG_DATA + (reg & 2));
}

u8 pci_read8(u16 bdf, u8 reg) {
  select(bdf, reg);
  return inb(PCI_CONFIG_DATA + (reg & 3));
}

void pci_write32(u16 bdf, u8 reg, u32 v) {
  select(bdf, reg);
  outl(PCI_CONFIG_DATA, v);
}

void pci_write16(u16 bdf, u8 reg, u16 v) {
  select(bdf, reg);
  outw(PCI_CONFIG_DATA + (reg & 2), v);
}

void pci_write8(u16 bdf, u8 reg, u8 v) {
  select(bdf, reg);
  outb(PCI_CONFIG_DATA + (reg & 3), v);
}

static void describe(u16 bdf, struct pci_function *f) {
  u32 id = pci_read32(bdf, PCI_VENDOR);
  u32 class_rev = pci_read32(bdf, PCI_REVISION);
  f->bdf = bdf;
  f->vendor = (u16)id;
  f->device = (u16)(id >> 16);
  f->revision = (u8)class_rev;
  f->class_code = class_rev >> 8;
  f->header_type = pci_read8(bdf, PCI_HEADER_TYPE);
}

int pci_enumerate(struct pci_function *out, int max) {
  int n = 0;
  for (u8 dev = 0; dev < 32; dev++) {
    for (u8 fn = 0; fn < 8; fn++) {
      u16 bdf = pci_bdf(0, dev, fn);
      if (pci_read16(bdf, PCI_VENDOR) == 0xffff) {
        if (fn == 0) break;
        continue;
      }
      struct pci_function f;
      describe(bdf, &f);
      if (n < max) out[n] = f;
      n++;
      if (fn == 0 && !(f.header_type & 0x80)) break;
    }
  }
  return n;
}

int pci_find(u16 vendor, u16 device, struct pci_function *out) {
  struct pci_function all[64];
  int n = pci_enumerate(all, 64);
  for (int i = 0; i < n && i < 64; i++) {
    if (all[i].vendor == vendor && all[i].device == device) {
      *out = all[i];
      return 1;
    }
  }
  return 0;
}

u64 pci_bar_size(u16 bdf, int bar, int *kind) {
  u8 reg = (u8)(PCI_BAR0 + 4 * bar);
  u16 command = pci_read16(bdf, PCI_COMMAND);
  pci_write16(bdf, PCI_COMMAND, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
  u32 old = pci_read32(bdf, reg);
  pci_write32(bdf, reg, 0xffffffffu);
  u32 mask = pci_read32(bdf, reg);
  pci_write32(bdf, reg, old);
  u64 size = 0;
  *kind = PCI_BAR_NONE;
  if (mask == 0) {
    /* unused */
  } else if (mask & 1) {
    *kind = PCI_BAR_IO;
    size = (u16)~(mask & ~3u) + 1u;
  } else if ((mask & 6) == 4 && bar < 5) {
    *kind = PCI_BAR_MEM64;
    u32 old_high = pci_read32(bdf, (u8)(reg + 4));
    pci_write32(bdf, (u8)(reg + 4), 0xffffffffu);
    u32 high = pci_read32(bdf, (u8)(reg + 4));
    pci_write32(bdf, (u8)(reg + 4), old_high);
    size = ~((u64)high << 32 | (mask & ~0xfu)) + 1;
  } else {
    *kind = PCI_BAR_MEM32;
    size = (u32)~(mask & ~0xfu) + 1u;
  }
  pci_write16(bdf, PCI_COMMAND, command);
  return size;
}
