/* What nvmetest.c and nvmetest-errors.c share: the controller, its queues and their memory. */
#ifndef TOYKVM_NVMETEST_H
#define TOYKVM_NVMETEST_H

#include "lib/nvme.h"

#define MAX_QUEUES 16    /* I/O queue pairs (the design's queues= limit) */
#define ADMIN_ENTRIES 32
#define IO_ENTRIES 64
#define CMD_MS 5000      /* every wait for a completion gives up after this */
#define NSID 1
#define VEC_WATCHDOG 0x31 /* the local APIC timer bounding a wait for an interrupt */

/* One queue pair's memory (index 0: the admin pair): SQ, CQ, a PRP list page and a data buffer of
 * 9 pages (64 blocks from any 512-byte offset of the first). */
struct qmem {
  struct nvme_cmd sq[NVME_PAGE / 64];
  struct nvme_cqe cq[NVME_PAGE / 16];
  u64 prp_list[NVME_PAGE / 8];
  u8 data[9 * NVME_PAGE];
} __attribute__((aligned(4096)));

extern struct qmem qmem[MAX_QUEUES + 1];
extern struct nvme_ctrl ctrl;
extern struct nvme_queue io[MAX_QUEUES + 1]; /* io[q] is I/O queue pair q, 1..queues */
extern u32 queues;                          /* I/O queue pairs created */
extern u32 granted;                         /* pairs the controller allocated */
extern u32 namespaces;                      /* Identify's NN */
extern u64 ns_blocks;                       /* namespace 1's NSZE */

/* The output lock: several CPUs may print; a line is printed whole under it. */
void lock(void);
void unlock(void);
/* "nvmetest: " + text, under the output lock. */
void say(const char *text);
/* FAIL what, with the status, then the summary and the exit: the state is unknown after it. */
void fail_now(const char *what, u32 status) __attribute__((noreturn));
/* Prints a status as 0xSSS (SCT << 8 | SC) or "timeout". */
void put_status(u32 status);

/* nvmetest-setup.c: finds the controller by its class, sets ctrl.bar (BAR0, placed if
 * unassigned or if place) and prints it: its bus/device/function. */
u16 find_controller(int place);
/* Programs and enables the MSI-X table (vectors entries, or as many as the table has; entry v to
 * local APIC dest[v] at IDT vector base + v, whose gate gets entries[v]): the number used. */
u32 setup_msix(u16 bdf, u32 vectors, const u32 *dest, void (*const *entries)(void), u8 base);
/* Routes the INTx line from config space: on the I/O APIC (level, active high, ioapic_vector, to
 * dest) or, with force_pic or no I/O APIC, on the 8259 (vector pic_base + line); *on_pic says
 * which. The gate gets entry. Returns the line. */
u32 setup_intx(u16 bdf, int force_pic, void (*entry)(void), u8 ioapic_vector, u8 pic_base,
               u8 dest, u32 *on_pic);

/* bench (nvmetest-bench.c): 4 KiB random reads at depth 1 and at depth qd on I/O queue pair 1,
 * timed with rdtsc, results in RAM at 16 MiB for `toykvm bench nvme`; poll: how to wait. */
void bench(const char *cmdline, int poll);

/* buf=high (nvmetest-high.c): finds RAM at 4 GiB in the multiboot map (info) and maps it for
 * 64-bit copies: 0 if there is none. high_twin is where queue q's buffer at offset goes above
 * 4 GiB; high_copy copies len bytes between buf and the twin (to buf if out). */
int high_setup(const u32 *info);
u64 high_twin(u32 q, u32 offset);
void high_copy(u64 twin, void *buf, u32 len, int out);

/* check=errors: malformed commands on the admin queue and I/O queue 1, each status checked. */
void malformed_commands(void);

#endif
