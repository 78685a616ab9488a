/*
 * 64-bit memory accesses for 32-bit kernels (lib/lm-run.S): RAM above 4 GiB is out of reach of
 * 32-bit addresses, and on toykvm (libunicorn 2.0.1) of PAE paging too, so a kernel that needs it
 * runs a list of jobs in 64-bit mode with identity-mapped page tables (lm_identity_map) and comes
 * back. Interrupts are off during the trip.
 */
#ifndef TOYKVM_LONGMODE_H
#define TOYKVM_LONGMODE_H
#include "guest.h"

enum lm_op {
  LM_WRITE32,  /* *(u32 *)addr = value */
  LM_READ32,   /* value = *(u32 *)addr */
  LM_WRITE8,   /* *(u8 *)addr = value */
  LM_READ8,    /* value = *(u8 *)addr */
  LM_COPY_IN,  /* copy len bytes from the 32-bit pointer value to addr */
  LM_COPY_OUT, /* copy len bytes from addr to the 32-bit pointer value */
};

struct lm_job { u64 addr, value; u32 op, len; };

/* Runs n jobs in order in 64-bit mode with the page tables at pml4 (physical, below 4 GiB). */
void lm_run(u32 pml4, struct lm_job *jobs, u32 n);

/* Builds 4-level page tables identity-mapping [0, top) with 2 MiB pages (top at most 64 GiB) in
 * the tables given (pml4, pdpt: 512 entries; pd: one page directory of 512 entries per GiB below
 * top; all 4 KiB-aligned); returns pml4's address for lm_run. */
u32 lm_identity_map(u64 *pml4, u64 *pdpt, u64 (*pd)[512], u64 top);

#endif
