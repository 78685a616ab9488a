/*
 * nvmetest's "bench" mode, for `toykvm bench nvme`: 4 KiB random reads of namespace 1 on I/O
 * queue pair 1, first one at a time (queue depth 1, each timed with rdtsc), then with qd commands
 * outstanding (only the whole run timed). Completions are waited for as irq= says: polling the
 * phase tag, or in hlt until the interrupt (MSI-X or INTx).
 *
 * The command line adds count=N (reads at depth 1, default 2000), warmup=N (unmeasured reads
 * first, default 200), qd=N (2-63, default 16), qd_count=N (reads at depth qd, default 4 *
 * count) and cq_doorbell=deferred (the CQ head doorbell rung with the next SQ tail doorbell, not
 * after each completion: nvme_queue.defer_cq_doorbell; not with irq=intx). The results go to RAM at BENCH_RESULTS (16 MiB), little-endian:
 *
 *   +0  u32 magic 0x4e42564e ("NVBN")   +4  u32 count      +8  u32 qd     +12 u32 qd_count
 *   +16 u64 tsc at the start of the depth-1 reads        +24 u64 tsc at their end
 *   +32 u64 tsc at the start of the depth-qd reads       +40 u64 tsc at their end
 *   +48 u32 status: 0, or the first failed command's status
 *   +0x100 u32 deltas[count]: each depth-1 read, submission to reaped completion, in TSC ticks
 *
 * Around each timed part it writes 1 and 2 (depth 1), 3 and 4 (depth qd) to port BENCH_MARKER,
 * where the benchmark notes the host's clock, to turn ticks into nanoseconds.
 */
#include "nvmetest.h"
#include "lib/intr.h"

#define BENCH_RESULTS 0x1000000u
#define BENCH_MAGIC 0x4e42564eu
#define BENCH_MARKER 0xf0
#define BLOCKS_PER_READ 8 /* 4 KiB */

struct bench_results {
  u32 magic, count, qd, qd_count;
  u64 qd1_start, qd1_end, qd_start, qd_end;
  u32 status;
};

static inline u64 rdtsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (u64)hi << 32 | lo;
}

static u32 rng = 0x2545f491u;
static u64 random_lba(u64 slots) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return (u64)(rng % (u32)slots) * BLOCKS_PER_READ;
}

/* Waits for q's next completion, polling or in hlt (interrupts wake it): whether it came within
 * CMD_MS. Unlike ctrl.wait it does not ask for an interrupt per command, so several completions
 * may come with one interrupt at depth qd. With INTx, an interrupt for completions already reaped
 * leaves the controller masked (INTMS, in the handler), so it is unmasked (ctrl.consumed: INTMC)
 * before each hlt; with IF = 0 until the hlt, nothing is lost. */
static int wait_any(struct nvme_queue *q, int poll) {
  lapic_timer_start(CMD_MS, poll ? LVT_MASKED : VEC_WATCHDOG);
  int ok;
  for (u32 i = 0;; i++) {
    __asm__ volatile("cli" ::: "memory");
    ok = nvme_cqe_ready(q);
    if (ok) break;
    if (poll) {
      if ((i & 255) == 0 && lapic_timer_expired()) break;
      __asm__ volatile("pause" ::: "memory");
    } else {
      if (lapic_timer_expired()) break;
      if (ctrl.consumed) ctrl.consumed(&ctrl, q);
      __asm__ volatile("sti; hlt" ::: "memory"); /* sti's shadow: no wake-up lost before hlt */
    }
  }
  lapic_timer_stop();
  return ok;
}

static u32 parse_number(const char *cmdline, const char *key, u32 fallback) {
  u32 n = strlen(key);
  for (const char *s = cmdline; *s; s++) {
    if ((s == cmdline || s[-1] == ' ') && !memcmp(s, key, n)) {
      u32 v = 0;
      for (s += n; *s >= '0' && *s <= '9'; s++) v = v * 10 + (u32)(*s - '0');
      return v;
    }
  }
  return fallback;
}

static int has_word(const char *cmdline, const char *word) {
  u32 n = strlen(word);
  for (const char *s = cmdline; *s; s++) {
    if ((s == cmdline || s[-1] == ' ') && !memcmp(s, word, n) && (s[n] == ' ' || s[n] == 0)) return 1;
  }
  return 0;
}

void bench(const char *cmdline, int poll) {
  struct bench_results *r = (struct bench_results *)BENCH_RESULTS;
  u32 *deltas = (u32 *)(BENCH_RESULTS + 0x100);
  u32 count = parse_number(cmdline, "count=", 2000);
  u32 warmup = parse_number(cmdline, "warmup=", 200);
  u32 qd = parse_number(cmdline, "qd=", 16);
  u32 qd_count = parse_number(cmdline, "qd_count=", 4 * count);
  struct nvme_queue *q = &io[1];
  if (has_word(cmdline, "cq_doorbell=deferred")) {
    if (!poll && ctrl.consumed) fail_now("bad command line: cq_doorbell=deferred is not for irq=intx", 0);
    q->defer_cq_doorbell = 1;
  }
  if (qd < 2 || qd >= q->size) fail_now("bad command line: qd= takes 2 to the queue size - 1", 0);
  u64 slots = ns_blocks / BLOCKS_PER_READ;
  if (slots == 0) fail_now("the namespace is smaller than 4 KiB", 0);
  memset(r, 0, sizeof *r);
  r->magic = BENCH_MAGIC;
  r->count = count;
  r->qd = qd;
  r->qd_count = qd_count;

  struct nvme_cmd cmd;
  for (u32 i = 0; i < warmup + count; i++) {
    if (i == warmup) {
      outb(BENCH_MARKER, 1);
      r->qd1_start = rdtsc();
    }
    nvme_rw_cmd(&cmd, NVME_CMD_READ, NSID, random_lba(slots), BLOCKS_PER_READ, qmem[1].data, 0);
    u64 t0 = rdtsc();
    u32 status = nvme_exec(&ctrl, q, &cmd, 0, CMD_MS);
    u64 t1 = rdtsc();
    if (status) {
      r->status = status;
      fail_now("bench: a read at depth 1", status);
    }
    if (i >= warmup) deltas[i - warmup] = (u32)(t1 - t0);
  }
  r->qd1_end = rdtsc();
  outb(BENCH_MARKER, 2);

  /* Depth qd: qd reads in flight, one submitted for each one reaped. Every read goes to the same
   * buffer: only the time matters here. */
  outb(BENCH_MARKER, 3);
  r->qd_start = rdtsc();
  u32 submitted = 0, done = 0;
  for (; submitted < qd && submitted < qd_count; submitted++) {
    nvme_rw_cmd(&cmd, NVME_CMD_READ, NSID, random_lba(slots), BLOCKS_PER_READ, qmem[1].data, 0);
    nvme_submit(&ctrl, q, &cmd);
  }
  while (done < qd_count) {
    if (!wait_any(q, poll)) fail_now("bench: no completion at depth qd", NVME_TIMEOUT);
    struct nvme_cqe e;
    while (nvme_reap(&ctrl, q, &e)) {
      u32 status = (u32)(e.status >> 1) & 0x7ff;
      if (status) {
        r->status = status;
        fail_now("bench: a read at depth qd", status);
      }
      done++;
      if (submitted < qd_count) {
        nvme_rw_cmd(&cmd, NVME_CMD_READ, NSID, random_lba(slots), BLOCKS_PER_READ, qmem[1].data,
                    0);
        nvme_submit(&ctrl, q, &cmd);
        submitted++;
      }
    }
  }
  r->qd_end = rdtsc();
  outb(BENCH_MARKER, 4);
  nvme_ring_cq(&ctrl, q);
  lock();
  puts("nvmetest: bench: ");
  putu(count);
  puts(" reads at depth 1, ");
  putu(qd_count);
  puts(" at depth ");
  putu(qd);
  puts("\n");
  unlock();
}
