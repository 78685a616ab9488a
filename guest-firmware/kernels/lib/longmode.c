/* Identity-mapped page tables for lib/lm-run.S (see longmode.h). */
#include "longmode.h"

u32 lm_identity_map(u64 *pml4, u64 *pdpt, u64 (*pd)[512], u64 top) {
  const u64 gib = 1ull << 30;
  for (u32 g = 0; g < 64 && (u64)g * gib < top; g++) {
    for (u32 i = 0; i < 512; i++) pd[g][i] = (u64)g * gib + ((u64)i << 21) + 0x83;
    pdpt[g] = (u32)pd[g] | 3;
  }
  pml4[0] = (u32)pdpt | 3;
  return (u32)pml4;
}
