/*
 * The C guest library: what every freestanding toykvm test kernel needs. Types, port I/O, COM1
 * output, test checks, fw_cfg and a few string helpers. Link the library objects into a kernel (the Makefile
 * does) and include this header; keep each kernel's own file about what it tests.
 */
#ifndef TOYKVM_GUEST_H
#define TOYKVM_GUEST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

/* ---- port I/O ---- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory"); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory"); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory"); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory"); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory"); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory"); return v; }

/* ---- memory-mapped I/O (volatile, one access of the given width) ---- */
static inline u32 mmio_read32(u32 addr) { return *(volatile u32 *)addr; }
static inline void mmio_write32(u32 addr, u32 v) { *(volatile u32 *)addr = v; }

/* ---- COM1 (polled 16550 output, '\n' sent as "\r\n") ---- */
#define COM1 0x3f8
/* The debug console port (QEMU's isa-debugcon, SeaBIOS's 0x402; reads give 0xe9). */
#define DEBUGCON_PORT 0x402
/* Where putc writes: 0 for COM1 (the default), else a debug console port, byte by byte. */
extern u16 console_debugcon;
void putc(char c);
void puts(const char *s);
void putu(u32 v);       /* decimal */
void putx(u32 v);       /* 0x-prefixed hexadecimal */

/* ---- checks: "ok   what" or "FAIL what" on COM1; failures counts the FAILs ---- */
extern int failures;
void check(int ok, const char *what);

/* ---- exits ---- */
#define DEBUG_EXIT_PORT 0xf4
/* isa-debug-exit: QEMU's status is (code << 1) | 1; toykvm's raw mode gives code itself. */
void debug_exit(u32 code) __attribute__((noreturn));
/* Exits with 0 when every check passed, 1 otherwise, after a summary line. */
void finish(void) __attribute__((noreturn));

/* ---- fw_cfg (QEMU's firmware configuration device: selector 0x510, data 0x511) ---- */
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
void fw_select(u16 key);
void fw_read(void *buf, u32 n);
/* Finds a file in the fw_cfg directory: its selector, and its size in *size; -1 if absent. */
int fw_find(const char *name, u32 *size);

/* ---- byte order and strings ---- */
static inline u32 bswap32(u32 v) { return __builtin_bswap32(v); }
static inline u16 bswap16(u16 v) { return __builtin_bswap16(v); }
static inline u32 be32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }
int streq(const char *a, const char *b);
u32 strlen(const char *s);
/* gcc may emit calls to these even in freestanding code. */
void *memset(void *d, int c, u32 n);
void *memcpy(void *d, const void *s, u32 n);
int memcmp(const void *a, const void *b, u32 n);

#endif
