/*
 * PCI for the C guests: configuration mechanism #1 (CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at
 * 0xcfc-0xcff), enumeration of bus 0, and BAR sizing. Include after guest.h; link lib/pci.c.
 */
#ifndef TOYKVM_PCI_H
#define TOYKVM_PCI_H

#include "guest.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc

#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR 0x2c
#define PCI_SUBSYSTEM 0x2e
#define PCI_CAPABILITIES 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

/* A function's address: bus << 8 | device << 3 | function. */
static inline u16 pci_bdf(u8 bus, u8 dev, u8 fn) { return (u16)(bus << 8 | dev << 3 | fn); }

u32 pci_read32(u16 bdf, u8 reg);
u16 pci_read16(u16 bdf, u8 reg);
u8 pci_read8(u16 bdf, u8 reg);
void pci_write32(u16 bdf, u8 reg, u32 v);
void pci_write16(u16 bdf, u8 reg, u16 v);
void pci_write8(u16 bdf, u8 reg, u8 v);

/* One function found on bus 0. */
struct pci_function {
  u16 bdf;
  u16 vendor, device;
  u32 class_code; /* class << 16 | subclass << 8 | programming interface */
  u8 revision, header_type;
};

/* Lists the functions of bus 0 (function 0 of each device, the others if it is multi-function):
 * at most max of them into out; returns how many there are. */
int pci_enumerate(struct pci_function *out, int max);

/* Finds the first function with these ids: 1 and *out filled, or 0. */
int pci_find(u16 vendor, u16 device, struct pci_function *out);

/* BAR kinds as pci_bar_size reports them. */
#define PCI_BAR_NONE 0
#define PCI_BAR_IO 1
#define PCI_BAR_MEM32 2
#define PCI_BAR_MEM64 3

/* Sizes BAR bar (0-5) the PCI way (decoding off, all-ones written, the mask read back, the old value
 * and command restored): its size in bytes, 0 if unused; *kind gets one of PCI_BAR_*. */
u64 pci_bar_size(u16 bdf, int bar, int *kind);

#endif
