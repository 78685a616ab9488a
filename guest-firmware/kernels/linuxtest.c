/*
 * linuxtest: a Linux/x86 boot protocol test payload (a bzImage-format file: linux-setup.S,
 * linux-entry.S, bzimage.ld). It checks the entry state and its boot_params (boot.rst, zero-page
 * layout): the setup header, the loader's fields, the command line, the e820 map against fw_cfg's
 * RAM size, the memory sizes and the initrd; prints on COM1 and exits through isa-debug-exit (QEMU's
 * mode): writes 0 when every check passed (status 1), 1 otherwise (status 3).
 */
#include "lib/guest.h"

/* What linux-entry.S recorded at the entry point. */
struct entry {
  u32 mode64, esi, ebx, ebp, edi, eflags, cs, ds, es, ss, cr0, cr4, efer, rsi_high;
};

#define U8(o) (*(volatile u8 *)(bp + (o)))
#define U16(o) (*(volatile u16 *)(bp + (o)))
#define U32(o) (*(volatile u32 *)(bp + (o)))

struct e820 { u64 addr, len; u32 type; } __attribute__((packed));

extern char startup_32[];

static u64 ram_size(void) {
  u64 ram = 0;
  fw_select(FW_CFG_RAM_SIZE);
  fw_read(&ram, 8);
  return ram;
}

static void check_entry(const struct entry *e, u32 bp) {
  if (e->mode64) {
    puts("entry: 64-bit protocol\n");
    check((e->cr0 & 0x80000001) == 0x80000001 && (e->cr4 & 0x20) && (e->efer & 0x500) == 0x500,
          "entry mode: long mode, paging on (CR0.PG, CR4.PAE, EFER.LME|LMA)");
  } else {
    puts("entry: 32-bit protocol\n");
    check((e->cr0 & 1) && !(e->cr0 & 0x80000000), "entry mode: protected mode, paging off");
  }
  check(e->cs == 0x10 && e->ds == 0x18 && e->es == 0x18 && e->ss == 0x18,
        "entry: CS __BOOT_CS 0x10, DS/ES/SS __BOOT_DS 0x18");
  check(!(e->eflags & 0x200), "entry: interrupts off");
  check(bp != 0 && (bp & 3) == 0 && e->rsi_high == 0 && U32(0x202) == 0x53726448,
        "entry: ESI points to boot_params (HdrS at 0x202)");
  check(e->ebx == 0 && e->ebp == 0 && e->edi == 0, "entry: EBX, EBP and EDI zero");
}

static void check_header(u32 bp) {
  check(U16(0x206) == 0x020f && U16(0x1fe) == 0xaa55 && U32(0x260) != 0,
        "setup header copied into boot_params (version 2.15, boot_flag, init_size)");
  u8 loader = U8(0x210);
  check(loader == 0xff || loader == 0xb0, "type_of_loader set (0xff undefined, or QEMU's 0xb0)");
  check((U8(0x211) & 0x81) == 0x81, "loadflags: LOADED_HIGH and CAN_USE_HEAP");
  check(U16(0x224) != 0, "heap_end_ptr set");
  check(U32(0x214) == (u32)startup_32, "code32_start is where this code runs");
}

static void check_cmdline(u32 bp) {
  const char *cmd = (const char *)U32(0x228);
  check(cmd != 0 && U32(0xc8) == 0, "cmd_line_ptr set (below 4 GiB)");
  if (cmd) {
    check(strlen(cmd) <= U32(0x238), "command line within cmdline_size");
    puts("cmdline: ");
    puts(cmd);
    puts("\n");
  }
}

/* The top of the RAM below 4 GiB: the RAM size less the e820 range at 4 GiB, if there is one. */
static u64 ram_below_4g(u32 bp) {
  u64 ram = ram_size();
  struct e820 *map = (struct e820 *)(bp + 0x2d0);
  for (u32 i = 0; i < U8(0x1e8) && i < 128; i++)
    if (map[i].type == 1 && map[i].addr == 0x100000000ull && map[i].len < ram) return ram - map[i].len;
  return ram;
}

static void check_memory(u32 bp) {
  puts("fw_cfg ram: "); putu((u32)(ram_size() >> 20)); puts(" MiB\n");
  u64 ram = ram_below_4g(bp);
  u32 n = U8(0x1e8);
  struct e820 *map = (struct e820 *)(bp + 0x2d0);
  int low = 0, high = 0, hole = 1;
  for (u32 i = 0; i < n && i < 128; i++) {
    if (map[i].type != 1) continue;
    u64 end = map[i].addr + map[i].len;
    if (map[i].addr == 0 && end >= 0x80000 && end <= 0xa0000) low = 1;
    if (map[i].addr <= 0x100000 && end > 0x100000 && end <= ram && end > ram - 0x100000) high = 1;
    if (map[i].addr < 0x100000 && end > 0xa0000) hole = 0;
  }
  check(n >= 3 && n <= 128, "e820_entries: a map of 3 to 128 ranges");
  check(low, "e820: RAM from 0 up to between 512 and 640 KiB");
  check(hole, "e820: no RAM in the hole [640 KiB, 1 MiB)");
  check(high, "e820: RAM from 1 MiB into the last MiB of RAM");
  u64 alt_end = (u64)U32(0x1e0) * 1024 + 0x100000;
  check(alt_end <= ram && alt_end > ram - 0x100000,
        "alt_mem_k: memory above 1 MiB up to the last MiB of RAM");
  u32 ext = U16(0x002);
  check(ext != 0 && (ext == 0xffff || ext == 0xfc00 || (u64)ext * 1024 + 0x100000 == alt_end),
        "ext_mem_k: memory above 1 MiB, capped at 64 MiB");
}

static void check_initrd(u32 bp) {
  u32 addr = U32(0x218), size = U32(0x21c);
  if (size == 0) {
    check(addr == 0, "no initrd: ramdisk_image and ramdisk_size 0");
    puts("initrd: none\n");
    return;
  }
  u64 ram = ram_below_4g(bp);
  u32 kernel_end = (u32)startup_32 + U32(0x260);
  check((addr & 0xfff) == 0, "initrd page-aligned");
  check(addr >= kernel_end && (u64)addr + size <= ram && addr + size - 1 <= U32(0x22c),
        "initrd above the kernel, in RAM, below initrd_addr_max");
  /* as high as the loader may: the last MiB of RAM, or of what initrd_addr_max allows */
  u64 limit = (u64)U32(0x22c) + 1 < ram ? (u64)U32(0x22c) + 1 : ram;
  check((u64)addr + size > limit - 0x100000, "initrd placed high: it ends in the last MiB of RAM");
  check(U32(0xc0) == 0 && U32(0xc4) == 0, "ext_ramdisk_image and ext_ramdisk_size zero");
  const u8 *p = (const u8 *)addr;
  u32 sum = 0;
  for (u32 i = 0; i < size; i++) sum = sum * 31 + p[i];
  puts("initrd: "); putu(size); puts(" bytes, hash "); putx(sum); puts(", starts with: ");
  for (u32 i = 0; i < size && i < 16 && p[i] >= 0x20 && p[i] < 0x7f; i++) putc((char)p[i]);
  puts("\n");
}

void lmain(u32 bp, const struct entry *e) {
  puts("linuxtest: Linux boot protocol test payload\n");
  check_entry(e, bp);
  if (U32(0x202) == 0x53726448) {
    check_header(bp);
    check_cmdline(bp);
    check_memory(bp);
    check_initrd(bp);
  }
  puts(failures ? "linuxtest: FAIL\n" : "linuxtest: PASS\n");
  outl(DEBUG_EXIT_PORT, failures ? 1 : 0);
}
