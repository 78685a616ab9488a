/*
 * fwtest: a firmware image (not a kernel) that checks what PC firmware expects of the machine it
 * starts on, printing on the debug console (port 0x402) and exiting through isa-debug-exit (port
 * 0xf4: 0 when every check passed, QEMU status 1; 1 otherwise, status 3). Built at 128 KiB and
 * 256 KiB from the same source; fw/reset.S enters fwmain() in 32-bit protected mode.
 */
#include "lib/guest.h"

extern const u8 __rom_start[];

/* A word in the image's last 4 KiB, so inside the alias below 1 MiB for any image size. */
__attribute__((section(".romtop"))) const volatile u32 rom_probe = 0x50524f42; /* "BORP" */

static u8 cmos(u8 index) {
  outb(0x70, index);
  return inb(0x71);
}

/* The RAM size as SeaBIOS computes it from CMOS when fw_cfg has no etc/e820. */
static u64 cmos_ram_size(void) {
  u32 above16 = (u32)cmos(0x34) << 16 | (u32)cmos(0x35) << 24;
  u32 below4g = above16 ? above16 + (16u << 20) : ((u32)cmos(0x30) << 10 | (u32)cmos(0x31) << 18) + (1u << 20);
  u64 above4g = (u64)cmos(0x5b) << 16 | (u64)cmos(0x5c) << 24 | (u64)cmos(0x5d) << 32;
  return below4g + above4g;
}

/* Waits (bounded) until the RTC's seconds register changes: one update cycle has passed. */
static int wait_for_update(void) {
  u8 s = cmos(0x00);
  for (u32 i = 0; i < 200000000u; i++) {
    if (cmos(0x00) != s) return 1;
  }
  return 0;
}

void fwmain(void) {
  console_debugcon = DEBUGCON_PORT;
  u32 size = 0u - (u32)__rom_start;
  u32 alias = size < 0x20000 ? size : 0x20000;
  puts("fwtest: firmware test, ");
  putu(size >> 10);
  puts(" KiB\n");
  check(inb(DEBUGCON_PORT) == 0xe9, "debug console reads back 0xe9");

  /* The image's last 128 KiB (all of it if smaller) again below 1 MiB. */
  const u8 *top = (const u8 *)(0u - alias);
  const u8 *low = (const u8 *)(0x100000u - alias);
  check(memcmp(top, low, alias) == 0, "the alias below 1 MiB matches the top copy");
  check(*(const volatile u32 *)0xfffffff0 == *(const volatile u32 *)0xffff0, "reset vector at 0xffff0 too");

  /* Writes to the ROM change neither copy. */
  volatile u32 *probe_top = (volatile u32 *)&rom_probe;
  volatile u32 *probe_low = (volatile u32 *)((u32)&rom_probe - (0u - 0x100000u));
  *probe_top = 0x12345678;
  check(*probe_top == 0x50524f42 && *probe_low == 0x50524f42, "a write to the top copy is ignored");
  *probe_low = 0x9abcdef0;
  check(*probe_top == 0x50524f42 && *probe_low == 0x50524f42, "a write to the alias is ignored");

  /* fw_cfg */
  char sig[5] = {0};
  fw_select(FW_CFG_SIGNATURE);
  fw_read(sig, 4);
  check(streq(sig, "QEMU"), "fw_cfg signature QEMU");
  u64 ram = 0;
  fw_select(FW_CFG_RAM_SIZE);
  fw_read(&ram, 8);
  puts("fw_cfg ram: ");
  putu((u32)(ram >> 20));
  puts(" MiB\n");

  /* RAM above 4 GiB, from etc/e820 (QEMU's pc machine from 3.5 GiB, toykvm's above 3 GiB) */
  u64 above4g = 0;
  u32 e820_size = 0;
  int e820_key = fw_find("etc/e820", &e820_size);
  if (e820_key > 0) {
    fw_select((u16)e820_key);
    for (u32 i = 0; i < e820_size / 20; i++) {
      struct { u64 addr, len; u32 type; } __attribute__((packed)) e;
      fw_read(&e, 20);
      if (e.type == 1 && e.addr == 0x100000000ull) above4g = e.len;
    }
  }
  u64 below4g = ram - above4g;

  /* CMOS memory bytes, as SeaBIOS reads them */
  u32 ext = (u32)cmos(0x30) | (u32)cmos(0x31) << 8;
  u32 ext16 = (u32)cmos(0x34) | (u32)cmos(0x35) << 8;
  u32 want_ext = ram > (1u << 20) ? (u32)((ram - (1u << 20)) >> 10) : 0;
  if (want_ext > 0xffff) want_ext = 0xffff;
  u32 want_ext16 = below4g > (16u << 20) ? (u32)((below4g - (16u << 20)) >> 16) : 0;
  if (want_ext16 > 0xffff) want_ext16 = 0xffff;
  u64 cmos_above4g = (u64)cmos(0x5b) << 16 | (u64)cmos(0x5c) << 24 | (u64)cmos(0x5d) << 32;
  check(ext == want_ext, "CMOS 0x30/0x31: KiB above 1 MiB (at most 0xffff)");
  check(ext16 == want_ext16, "CMOS 0x34/0x35: 64 KiB units above 16 MiB");
  if (above4g)
    check(cmos_above4g == above4g, "CMOS 0x5b-0x5d: 64 KiB units above 4 GiB, as etc/e820 says");
  else
    check(cmos_above4g == 0, "CMOS 0x5b-0x5d: nothing above 4 GiB");
  puts("cmos ram: ");
  putu((u32)(cmos_ram_size() >> 20));
  puts(" MiB\n");
  check(cmos_ram_size() == ram, "CMOS RAM size agrees with fw_cfg");

  /* The RTC: valid RAM and time, and the update-ended flag in register C, polled. */
  check((cmos(0x0d) & 0x80) != 0, "RTC register D: valid RAM and time");
  (void)cmos(0x0c);
  int updated = wait_for_update();
  check(updated && (cmos(0x0c) & 0x10) != 0, "RTC update-ended flag after a second");
  /* PF may be set again at once (1024 Hz on the chip; QEMU only sets it while PIE is on). */
  check((cmos(0x0c) & 0x30) == 0, "reading register C clears its update and alarm flags");

  if (failures) {
    putu((u32)failures);
    puts(" check(s) failed\nfwtest: FAIL\n");
  } else {
    puts("fwtest: PASS\n");
  }
  outb(DEBUG_EXIT_PORT, failures ? 1 : 0);
  for (;;) __asm__ volatile("cli; hlt");
}
