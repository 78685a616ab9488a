/*
 * pcitest: enumerates PCI bus 0 through configuration mechanism #1, prints each function's ids
 * and class on COM1, checks the PC chipset's two functions (the i440FX host bridge at 00:00.0, the
 * PIIX3 ISA bridge at 00:01.0), the mechanism's corner cases, the PIIX3's PIRQ route registers
 * and the i440FX's PAM shadow modes on 0xdc000-0xdffff, and sizes the BARs of a pci-testdev
 * (1b36:0005) if there is one. Exits through isa-debug-exit: 0 when every check passed (QEMU's
 * status 1), 1 otherwise (status 3).
 */
#include "lib/guest.h"
#include "lib/pci.h"

static void hex(u32 v, int digits) {
  static const char d[] = "0123456789abcdef";
  for (int s = (digits - 1) * 4; s >= 0; s -= 4) putc(d[(v >> s) & 0xf]);
}

static void print_function(const struct pci_function *f) {
  puts("00:");
  hex(f->bdf >> 3 & 0x1f, 2);
  putc('.');
  hex(f->bdf & 7, 1);
  putc(' ');
  hex(f->vendor, 4);
  putc(':');
  hex(f->device, 4);
  puts(" class ");
  hex(f->class_code, 6);
  puts(" rev ");
  hex(f->revision, 2);
  if (f->header_type & 0x80) puts(" multi-function");
  puts("\n");
}

#define PAM_PIECE 0xdc000u /* PAM4's upper nibble (register 0x5d, bits 5:4) */
#define PAM_REG 0x5d

static void pam_set(u8 saved, u8 mode) { pci_write8(0, PAM_REG, (u8)((saved & 0x0f) | mode << 4)); }

static void pam_checks(void) {
  volatile u32 *p = (volatile u32 *)PAM_PIECE;
  u8 saved = pci_read8(0, PAM_REG);
  u32 keep = 0;
  if (saved & 0x10) keep = *p;
  pam_set(saved, 3);
  check((pci_read8(0, PAM_REG) >> 4 & 3) == 3, "PAM4 is writable");
  *p = 0x5a5a1234;
  check(*p == 0x5a5a1234, "PAM mode 3: RAM, read and written");
  pam_set(saved, 1);
  *p = 0xa5a5a5a5;
  check(*p == 0x5a5a1234, "PAM mode 1: RAM read-only, the write dropped");
  /* Mode 0 and 2 read "the PCI bus": all-ones on toykvm, QEMU's pc.rom (its option ROM area) on
   * QEMU; either way not the RAM. */
  pam_set(saved, 0);
  check(*p != 0x5a5a1234, "PAM mode 0: reads do not come from RAM");
  *p = 0x77777777;
  pam_set(saved, 1);
  check(*p == 0x5a5a1234, "PAM mode 0: the write did not reach RAM");
  pam_set(saved, 2);
  *p = 0x3c3c3c3c;
  /* The 82441FX datasheet: reads from the PCI bus. QEMU's pam.c maps RAM for both (its comment
   * "XXX: should distinguish read/write cases"), toykvm follows the datasheet: not a check. */
  puts(*p == 0x3c3c3c3c ? "PAM mode 2 reads: RAM (QEMU)\n" : "PAM mode 2 reads: not RAM (as the datasheet)\n");
  pam_set(saved, 1);
  check(*p == 0x3c3c3c3c, "PAM mode 2: the write reached RAM");
  pam_set(saved, 3);
  *p = keep;
  pci_write8(0, PAM_REG, saved);
}

static void testdev(void) {
  struct pci_function f;
  if (!pci_find(0x1b36, 0x0005, &f)) {
    puts("no pci-testdev (1b36:0005)\n");
    return;
  }
  u16 command = pci_read16(f.bdf, PCI_COMMAND);
  for (int bar = 0; bar < 6; bar++) {
    int kind;
    u64 size = pci_bar_size(f.bdf, bar, &kind);
    if (kind == PCI_BAR_NONE) continue;
    puts("pci-testdev BAR");
    putu((u32)bar);
    puts(kind == PCI_BAR_IO ? " io " : kind == PCI_BAR_MEM32 ? " mem32 " : " mem64 ");
    putx((u32)size);
    puts("\n");
    if (kind == PCI_BAR_MEM64) bar++;
  }
  check(pci_read16(f.bdf, PCI_COMMAND) == command, "pci-testdev: sizing left the command register");
}

void kmain(u32 magic, void *info) {
  (void)info;
  puts("pcitest: PCI bus 0\n");
  check(magic == 0x2BADB002, "multiboot magic");

  outl(PCI_CONFIG_ADDRESS, 0x80000010u);
  check(inl(PCI_CONFIG_ADDRESS) == 0x80000010u, "CONFIG_ADDRESS reads back");

  struct pci_function all[64];
  int n = pci_enumerate(all, 64);
  for (int i = 0; i < n && i < 64; i++) print_function(&all[i]);

  check(n >= 2 && all[0].bdf == 0 && all[0].vendor == 0x8086 && all[0].device == 0x1237 &&
            all[0].class_code == 0x060000,
        "00:00.0 is the i440FX host bridge (8086:1237, class 0600)");
  check(pci_read16(0, PCI_SUBSYSTEM_VENDOR) == 0x1af4 && pci_read16(0, PCI_SUBSYSTEM) == 0x1100,
        "host bridge subsystem 1af4:1100 (QEMU's)");
  check(n >= 2 && all[1].bdf == pci_bdf(0, 1, 0) && all[1].vendor == 0x8086 &&
            all[1].device == 0x7000 && (all[1].class_code >> 8) == 0x0601 &&
            (all[1].header_type & 0x80),
        "00:01.0 is the PIIX3 ISA bridge (8086:7000, class 0601), multi-function");
  check(pci_read8(0, 0) == 0x86 && pci_read8(0, 1) == 0x80 && pci_read8(0, 2) == 0x37 &&
            pci_read8(0, 3) == 0x12 && pci_read16(0, 2) == 0x1237,
        "byte and word reads at 0xcfc-0xcff agree with the dword");
  check(pci_read32(pci_bdf(0, 31, 7), 0) == 0xffffffffu, "an absent function reads all-ones");
  check(pci_read32(pci_bdf(1, 0, 0), 0) == 0xffffffffu, "bus 1 reads all-ones");
  outl(PCI_CONFIG_ADDRESS, 0x00000000u);
  check(inl(PCI_CONFIG_DATA) == 0xffffffffu, "without the enable bit, data reads all-ones");

  u16 isa = pci_bdf(0, 1, 0);
  u32 routes = pci_read32(isa, 0x60);
  pci_write32(isa, 0x60, 0x0b0a0b0au);
  check(pci_read32(isa, 0x60) == 0x0b0a0b0au, "PIIX3 PIRQ route registers 0x60-0x63 read/write");
  pci_write32(isa, 0x60, routes);

  pam_checks();
  testdev();
  finish();
}
