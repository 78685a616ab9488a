/*
 * buf=high: nvmetest's data buffers above 4 GiB, so that the controller's DMA goes there. The
 * pattern is still made and checked in each queue's buffer below 4 GiB (qmem[q].data); before a
 * command the buffer is copied to its twin above 4 GiB (the pattern for a write, the poison for a
 * read), the command's PRPs name the twin, and after a read the twin is copied back for the
 * check. The copies run in 64-bit mode (lib/longmode.h); the PRP lists stay below 4 GiB.
 */
#include "nvmetest.h"
#include "lib/longmode.h"

#define GIB (1ull << 30)
#define TWIN_STRIDE 0x10000u /* each queue's twin: 64 KiB from the start of RAM above 4 GiB */

static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd[5][512] __attribute__((aligned(4096))); /* identity: 0-1 GiB and 4-5 GiB */
static u32 tables;
static u64 twins;

struct mb_mmap { u32 size; u64 addr, len; u32 type; } __attribute__((packed));

int high_setup(const u32 *info) {
  if (!(info[0] & (1u << 6))) return 0;
  u64 need = (u64)(MAX_QUEUES + 1) * TWIN_STRIDE;
  for (u32 p = info[12]; p < info[12] + info[11];) {
    const struct mb_mmap *m = (const struct mb_mmap *)p;
    if (m->type == 1 && m->addr == 4 * GIB && m->len >= need) twins = m->addr;
    p += m->size + 4;
  }
  if (!twins) return 0;
  /* lm_identity_map fills one page directory per GiB up to the top given: 0-5 GiB here, of
   * which only the first and the fifth are used. */
  tables = lm_identity_map(pml4, pdpt, pd, twins + need);
  return 1;
}

u64 high_twin(u32 q, u32 offset) { return twins + q * TWIN_STRIDE + offset; }

void high_copy(u64 twin, void *buf, u32 len, int out) {
  struct lm_job j = {twin, (u32)buf, out ? LM_COPY_OUT : LM_COPY_IN, len};
  lm_run(tables, &j, 1);
}
