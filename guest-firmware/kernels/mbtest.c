/*
 * mbtest: a multiboot v1 test kernel. Prints on COM1, checks the multiboot information against
 * fw_cfg, uses pc-testdev (scratch register, IRQ-line ports, memory window), and exits through isa-debug-exit (port 0xf4, QEMU's
 * mode): writes 0 when every check passed (status 1), 1 otherwise (status 3).
 */
#include "lib/guest.h"

/* A large .bss, as test kernels commonly have: the loader must give it zeroed RAM. */
static u8 big_bss[1 << 20];

/* The multiboot information (specification 0.6.96). */
struct mb_info {
  u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
  u32 syms[4];
  u32 mmap_length, mmap_addr;
};
struct mb_mmap { u32 size; u64 addr, len; u32 type; } __attribute__((packed));
struct mb_module { u32 start, end, string, reserved; };

/* The text after the first word (QEMU and GRUB put the file name first). */
static const char *args(const char *s) {
  while (*s && *s != ' ') s++;
  while (*s == ' ') s++;
  return s;
}

void kmain(u32 magic, struct mb_info *mbi) {
  puts("mbtest: multiboot test kernel\n");
  check(magic == 0x2BADB002, "multiboot magic 0x2BADB002 in EAX");

  int bss_zero = 1;
  for (u32 i = 0; i < sizeof big_bss; i += 4096) bss_zero &= big_bss[i] == 0;
  big_bss[sizeof big_bss - 1] = 1;
  check(bss_zero && (u32)&big_bss[sizeof big_bss - 1] < 0x800000, "1 MiB of .bss, zeroed");

  /* fw_cfg: signature, CPUs, RAM size */
  char sig[5] = {0};
  fw_select(0x0000);
  fw_read(sig, 4);
  check(streq(sig, "QEMU"), "fw_cfg signature QEMU");
  u16 cpus = 0;
  fw_select(0x0005);
  fw_read(&cpus, 2);
  puts("fw_cfg cpus: "); putu(cpus); puts("\n");
  u64 ram = 0;
  fw_select(0x0003);
  fw_read(&ram, 8);
  puts("fw_cfg ram: "); putu((u32)(ram >> 20)); puts(" MiB\n");

  /* fw_cfg DMA (0x514): select the signature and read it into guest memory */
  static struct { u32 control, length; u64 address; } __attribute__((aligned(16))) dma;
  static char dma_sig[8];
  dma.control = bswap32((u32)0x0000 << 16 | 0x08 | 0x02); /* select key 0, read */
  dma.length = bswap32(4);
  dma.address = (u64)bswap32((u32)dma_sig) << 32; /* big-endian u64, high half 0 */
  outl(0x514, 0);
  outl(0x518, bswap32((u32)&dma));
  check(dma.control == 0 && streq(dma_sig, "QEMU"), "fw_cfg DMA read of the signature");

  /* fw_cfg file directory: etc/e820 */
  u32 e820_size = 0;
  int e820_key = fw_find("etc/e820", &e820_size);
  check(e820_key > 0 && e820_size % 20 == 0, "fw_cfg file etc/e820 listed");
  /* The RAM from 1 MiB up ends at the RAM size, or, with RAM above 4 GiB (QEMU's pc machine from
   * 3.5 GiB, toykvm's above 3 GiB), below the PCI hole with the rest from 4 GiB. */
  u64 low_end = 0, above4g = 0;
  if (e820_key > 0) {
    fw_select((u16)e820_key);
    for (u32 i = 0; i < e820_size / 20; i++) {
      struct { u64 addr, len; u32 type; } __attribute__((packed)) e;
      fw_read(&e, 20);
      if (e.type == 1 && e.addr <= 0x100000 && e.addr + e.len > 0x100000) low_end = e.addr + e.len;
      if (e.type == 1 && e.addr == 0x100000000ull) above4g = e.len;
    }
  }
  check(low_end && low_end + above4g == ram && low_end <= 0xe0000000u,
        "etc/e820: RAM from 1 MiB up to the fw_cfg RAM size");
  u64 top = ram - above4g; /* the top of the RAM below 4 GiB */

  /* multiboot information */
  check((mbi->flags & 1) && mbi->mem_lower >= 512 && mbi->mem_lower <= 640,
        "mem_lower between 512 and 640 KiB");
  u64 upper_end = (u64)mbi->mem_upper * 1024 + 0x100000;
  check((mbi->flags & 1) && upper_end <= top && upper_end > top - 0x100000,
        "mem_upper reaches the last MiB of RAM");
  int mmap_ok = 0;
  if (mbi->flags & (1 << 6)) {
    u32 p = mbi->mmap_addr;
    while (p < mbi->mmap_addr + mbi->mmap_length) {
      struct mb_mmap *m = (struct mb_mmap *)p;
      if (m->type == 1 && m->addr == 0x100000 && m->addr + m->len <= top &&
          m->addr + m->len > top - 0x100000)
        mmap_ok = 1;
      p += m->size + 4;
    }
  }
  check(mmap_ok, "memory map: RAM from 1 MiB to the top");
  if (mbi->flags & (1 << 2)) {
    puts("cmdline: ");
    puts(args((const char *)mbi->cmdline));
    puts("\n");
  }
  if (mbi->flags & (1 << 3)) {
    puts("modules: "); putu(mbi->mods_count); puts("\n");
    struct mb_module *mod = (struct mb_module *)mbi->mods_addr;
    for (u32 i = 0; i < mbi->mods_count; i++) {
      puts("module "); putu(i); puts(": ");
      putu(mod[i].end - mod[i].start); puts(" bytes, page-aligned ");
      puts((mod[i].start & 0xfff) == 0 ? "yes" : "no");
      puts(", args: ");
      puts(args((const char *)mod[i].string));
      puts(", first byte: ");
      putc(*(const char *)mod[i].start);
      puts("\n");
    }
  }

  /* pc-testdev: the 32-bit scratch register at 0xe0 */
  outl(0xe0, 0x12345678);
  check(inl(0xe0) == 0x12345678, "pc-testdev scratch register");
  outl(0xe0, 0xcafef00d);
  check(inl(0xe0) == 0xcafef00d, "pc-testdev scratch register again");

  /* pc-testdev: raise and lower ISA IRQ 5 (IF is 0: nothing is delivered) */
  outb(0x2000 + 5, 1);
  outb(0x2000 + 5, 0);

  /* pc-testdev: its 64 KiB of memory at 0xff000000 */
  volatile u32 *iomem = (volatile u32 *)0xff000000;
  volatile u8 *iomem_last = (volatile u8 *)0xff00ffff;
  iomem[0] = 0xdeadbeef;
  *iomem_last = 0x5a;
  check(iomem[0] == 0xdeadbeef && *iomem_last == 0x5a &&
            *(volatile u16 *)0xff000001 == 0xadbe,
        "pc-testdev memory at 0xff000000");

  puts(failures ? "mbtest: FAIL\n" : "mbtest: PASS\n");
  outl(0xf4, failures ? 1 : 0);
}
