/*
 * highmem: RAM above 4 GiB. Reads the multiboot memory map, finds the RAM that starts at 4 GiB,
 * checks what fw_cfg, the CMOS and mem_upper say about it, then writes a pattern at its first page,
 * at every GiB boundary inside it and at its last page, reads them all back, checks that 4 GiB + x
 * does not alias x, that the last byte of RAM holds what was written, and that the map lists
 * nothing as RAM at the first address past it. Without RAM above 4 GiB it checks that nothing says
 * there is. Exits through isa-debug-exit (port 0xf4): 0 when every check passed (QEMU: status 1).
 *
 * The accesses run in 64-bit mode with identity-mapped 2 MiB pages (lib/longmode.h), by default; with
 * "pae" on the command line they run in 32-bit mode with PAE paging instead, through a window at
 * virtual 3 GiB whose 2 MiB pages have frames above 4 GiB. (The pae mode passes on QEMU; on toykvm
 * with Debian's libunicorn 2.0.1, which maps every linear address to the same physical address
 * whatever the page tables say, it cannot reach RAM above 4 GiB: see ARCHITECTURE.md.)
 */
#include "lib/guest.h"
#include "lib/longmode.h"

struct mb_info {
  u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
  u32 syms[4];
  u32 mmap_length, mmap_addr;
};
struct mb_mmap { u32 size; u64 addr, len; u32 type; } __attribute__((packed));

#define GIB (1ull << 30)
#define MIB (1ull << 20)
#define PAGE_2M (2ull << 20)
#define MAX_GIB 64 /* the page tables cover the 36-bit physical address space */

/* The memory accesses to run: in 64-bit mode (lm_run) or through the PAE window. */
static struct lm_job jobs[128];
static u32 njobs;

/* 64-bit mode: identity-mapped 2 MiB pages up to the top of RAM. */
static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd[MAX_GIB][512] __attribute__((aligned(4096)));

/* PAE: 4 page-directory-pointer entries; page directory 0 identity-maps the first GiB, page
 * directory 3 is the window (virtual 3-4 GiB) onto RAM above 4 GiB, one 2 MiB page per slot. */
#define WINDOW 0xc0000000u
static u64 pae_pdpt[4] __attribute__((aligned(32)));
static u64 pae_pd[4][512] __attribute__((aligned(4096)));
static u32 window_used;

/* A word in low RAM, to check that 4 GiB + its address is other memory. */
static volatile u32 low_probe[1024] __attribute__((aligned(4096)));

static void putx64(u64 v) {
  if (v >> 32) {
    putx((u32)(v >> 32));
    u32 lo = (u32)v;
    for (int shift = 28; shift >= 0; shift -= 4) putc("0123456789abcdef"[(lo >> shift) & 0xf]);
  } else {
    putx((u32)v);
  }
}

static u8 cmos(u8 index) {
  outb(0x70, index);
  return inb(0x71);
}

/* Whether the map lists [a, a + 1) as RAM. */
static int is_ram(struct mb_info *mbi, u64 a) {
  for (u32 p = mbi->mmap_addr; p < mbi->mmap_addr + mbi->mmap_length;) {
    struct mb_mmap *m = (struct mb_mmap *)p;
    if (m->type == 1 && a >= m->addr && a - m->addr < m->len) return 1;
    p += m->size + 4;
  }
  return 0;
}

/* The end of the RAM that starts at base (ranges that touch are one). */
static u64 ram_end(struct mb_info *mbi, u64 base) {
  u64 end = base;
  for (int grew = 1; grew;) {
    grew = 0;
    for (u32 p = mbi->mmap_addr; p < mbi->mmap_addr + mbi->mmap_length;) {
      struct mb_mmap *m = (struct mb_mmap *)p;
      if (m->type == 1 && m->addr <= end && m->addr + m->len > end) {
        end = m->addr + m->len;
        grew = 1;
      }
      p += m->size + 4;
    }
  }
  return end;
}

/* The summary line, then isa-debug-exit (QEMU's: status 1 for 0, 3 for 1). */
static void __attribute__((noreturn)) done(void) {
  puts(failures ? "highmem: FAIL\n" : "highmem: PASS\n");
  outl(DEBUG_EXIT_PORT, failures ? 1 : 0);
  for (;;) __asm__ volatile("cli; hlt");
}

static u32 pattern(u32 i) { return 0x5a000000u ^ (i * 0x9e3779b9u); }

static struct lm_job *job(u32 op, u64 addr, u64 value) {
  struct lm_job *j = &jobs[njobs++];
  j->addr = addr;
  j->value = value;
  j->op = op;
  j->len = 0;
  return j;
}

static void run_long_mode(u64 top) { lm_run(lm_identity_map(pml4, pdpt, pd, top), jobs, njobs); }

/* The virtual address of physical pa through the window, mapping its 2 MiB page if needed. */
static u32 window(u64 pa) {
  u64 frame = pa & ~(PAGE_2M - 1);
  u32 slot = 0;
  while (slot < window_used && (pae_pd[3][slot] & ~0xfffull) != frame) slot++;
  if (slot == window_used) {
    pae_pd[3][window_used++] = frame | 0x83; /* present, writable, 2 MiB page */
    __asm__ volatile("invlpg (%0)" : : "r"(WINDOW + slot * (u32)PAGE_2M) : "memory");
  }
  return WINDOW + slot * (u32)PAGE_2M + (u32)(pa & (PAGE_2M - 1));
}

static void run_pae(void) {
  for (u32 i = 0; i < 512; i++) pae_pd[0][i] = (u64)i * PAGE_2M | 0x83;
  for (u32 i = 0; i < 4; i++) pae_pdpt[i] = (u32)pae_pd[i] | 1;
  u32 cr0, cr4;
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 1u << 5)); /* PAE */
  __asm__ volatile("mov %0, %%cr3" : : "r"((u32)pae_pdpt) : "memory");
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | 1u << 31) : "memory"); /* PG */
  for (u32 i = 0; i < njobs; i++) {
    struct lm_job *j = &jobs[i];
    u32 a = j->addr >> 32 ? window(j->addr) : (u32)j->addr;
    switch (j->op) {
      case LM_WRITE32: *(volatile u32 *)a = (u32)j->value; break;
      case LM_READ32: j->value = *(volatile u32 *)a; break;
      case LM_WRITE8: *(volatile u8 *)a = (u8)j->value; break;
      default: j->value = *(volatile u8 *)a; break;
    }
  }
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
}

void kmain(u32 magic, struct mb_info *mbi) {
  puts("highmem: RAM above 4 GiB\n");
  check(magic == 0x2BADB002, "multiboot magic 0x2BADB002 in EAX");
  if (!(mbi->flags & (1 << 6))) {
    check(0, "a memory map");
    done();
  }
  const char *cmdline = (mbi->flags & (1 << 2)) ? (const char *)mbi->cmdline : "";
  int pae = 0;
  for (const char *c = cmdline; *c; c++) pae |= c[0] == 'p' && c[1] == 'a' && c[2] == 'e';

  u64 hi_base = 4 * GIB;
  u64 hi_end = is_ram(mbi, hi_base) ? ram_end(mbi, hi_base) : hi_base;
  u64 hi_size = hi_end - hi_base;
  u64 ram = 0;
  fw_select(FW_CFG_RAM_SIZE);
  fw_read(&ram, 8);
  u32 cmos_high = cmos(0x5b) | (u32)cmos(0x5c) << 8 | (u32)cmos(0x5d) << 16;
  u32 cmos_mid = cmos(0x34) | (u32)cmos(0x35) << 8;
  u64 upper_end = (u64)mbi->mem_upper * 1024 + MIB;

  if (hi_size == 0) {
    puts("RAM above 4 GiB: none\n");
    check(cmos_high == 0, "CMOS 0x5b-0x5d: no RAM above 4 GiB");
    check(ram <= 3 * GIB + GIB / 2, "fw_cfg RAM size: all of it below 4 GiB");
    check(!is_ram(mbi, 3 * GIB + GIB / 2), "nothing is RAM at 3.5 GiB");
    done();
  }

  puts("RAM above 4 GiB: ");
  putu((u32)(hi_size >> 20));
  puts(" MiB at ");
  putx64(hi_base);
  puts(pae ? ", reached with PAE paging\n" : ", reached in 64-bit mode\n");
  check(ram - hi_size == 3 * GIB, "fw_cfg RAM size: 3 GiB below 4 GiB plus the RAM above");
  check(cmos_high == (u32)(hi_size >> 16), "CMOS 0x5b-0x5d: the RAM above 4 GiB in 64 KiB units");
  check(cmos_mid == (u32)((3 * GIB - 16 * MIB) >> 16),
        "CMOS 0x34-0x35: the RAM from 16 MiB to 3 GiB in 64 KiB units");
  check(upper_end <= 3 * GIB && upper_end > 3 * GIB - MIB, "mem_upper: the RAM below the hole only");
  check(!is_ram(mbi, 3 * GIB) && !is_ram(mbi, 4 * GIB - 1), "the PCI hole is not RAM");
  check(!is_ram(mbi, hi_end), "the first address past the RAM above 4 GiB is not RAM");
  if (hi_end > (u64)MAX_GIB * GIB) {
    check(0, "RAM above 4 GiB ends below 64 GiB");
    done();
  }

  /* Places (4 KiB pages): the first, one at every GiB boundary inside, the last. */
  u64 places[40];
  u32 n = 0;
  places[n++] = hi_base;
  for (u64 a = hi_base + GIB; a < hi_end - PAGE_2M && n < 38; a += GIB) places[n++] = a;
  if (hi_size > 4096) places[n++] = hi_end - 4096;
  for (u32 i = 0; i < n; i++) {
    job(LM_WRITE32, places[i], pattern(i));
    job(LM_WRITE32, places[i] + 4092, ~pattern(i));
  }
  struct lm_job *reads = &jobs[njobs];
  for (u32 i = 0; i < n; i++) {
    job(LM_READ32, places[i], 0);
    job(LM_READ32, places[i] + 4092, 0);
  }
  job(LM_WRITE8, hi_end - 1, 0xa5);
  struct lm_job *last = job(LM_READ8, hi_end - 1, 0);
  struct lm_job *last_word = job(LM_READ32, hi_end - 4, 0);
  low_probe[0] = 0x11111111;
  int alias_fits = hi_size >= (u32)low_probe + sizeof low_probe;
  struct lm_job *alias = 0;
  if (alias_fits) {
    job(LM_WRITE32, hi_base + (u32)low_probe, 0x22222222);
    alias = job(LM_READ32, hi_base + (u32)low_probe, 0);
  }

  if (pae) {
    run_pae();
  } else {
    run_long_mode(hi_end);
  }

  int all_ok = 1;
  for (u32 i = 0; i < n; i++) {
    all_ok &= reads[2 * i].value == pattern(i) && reads[2 * i + 1].value == (u32)~pattern(i);
  }
  puts("patterns written at "); putu(n); puts(" places\n");
  check(all_ok, "every pattern reads back (first page, each GiB, last page)");
  check(last->value == 0xa5 && last_word->value >> 24 == 0xa5, "the last byte of RAM is RAM");
  if (alias_fits) {
    check(low_probe[0] == 0x11111111 && alias->value == 0x22222222, "4 GiB + x is not x");
  } else {
    check(1, "4 GiB + x is not x (too little RAM above 4 GiB to try)");
  }
  done();
}
