/*
 * nvmetest: a multiboot kernel that drives an NVMe controller the way a driver does, through
 * lib/nvme.c. It finds the controller by its PCI class (0x010802), sizes BAR0 and places it if the
 * firmware did not (or if "place" is on the command line), enables memory decoding and bus
 * mastering, resets and enables the controller, identifies it and namespace 1, asks for I/O queues
 * (Set Features, Number of Queues), creates the pairs, writes an LBA-dependent pattern over 2048
 * blocks (1 MiB: 256 commands of 1 block, 64 of 8 blocks with PRP2, 20 of 64 blocks with a PRP
 * list, at varying offsets in the page), flushes, reads everything back into poisoned buffers and
 * verifies it. One line per phase on COM1, then "nvmetest: PASS" and status 0 (QEMU's
 * isa-debug-exit: 1), or a FAIL line saying what and where and status 1 (QEMU: 3).
 *
 * The command line (words; anything else, such as the file name QEMU puts first, is ignored):
 *   irq=poll|msix|intx  how completions are waited for (default poll): polling the phase tag;
 *                       MSI-X, a vector per CQ to the local APIC of the CPU that owns the queue;
 *                       INTx, the interrupt line from config space on its I/O APIC pin (level,
 *                       active high) or, with no I/O APIC or with "pic", on the 8259 (level by
 *                       ELCR), masked with INTMS in the handler and unmasked with INTMC once the
 *                       completion is consumed. In the interrupt modes every completion must come
 *                       with an interrupt.
 *   queues=N            I/O queue pairs, 1-16 (default 1); commands go round-robin over them.
 *   cpus                every CPU (fw_cfg's count) owns one queue pair and does its share of the
 *                       pattern on it at the same time as the others (irq=poll or irq=msix).
 *   check=errors        malformed commands instead of the pattern (nvmetest-errors.c).
 *   place               BAR0 is cleared and placed by the kernel, as if no firmware had run.
 *   bench               4 KiB random reads for `toykvm bench nvme` instead of the pattern
 *                       (nvmetest-bench.c: count=, warmup=, qd=, qd_count=).
 *   buf=high            the pattern's data buffers above 4 GiB (nvmetest-high.c): the
 *                       controller's DMA goes to RAM above 4 GiB; needs RAM there.
 * Every wait is bounded (CAP.TO for the controller's state, CMD_MS for a completion, by the local
 * APIC timer): a timeout is a FAIL, never a hang.
 */
#include "nvmetest.h"
#include "lib/intr.h"
#include "lib/pci.h"
#include "lib/smp.h"

#define PCI_COMMAND_INTX_DISABLE 0x400

#define VEC_WAKE 0x30
#define VEC_MSIX 0x50 /* + the MSI-X vector, 0-16 */
#define VEC_INTX 0x70
#define VEC_PIC 0x20  /* the 8259s: IRQ 0-7 at 0x20, 8-15 at 0x28 */
#define VEC_SPURIOUS 0xff

#define TRANSFERS 340 /* 256 x 1 block, 64 x 8, 20 x 64: 2048 blocks */
#define PATTERN_BLOCKS 2048u

enum irq_mode { IRQ_POLL, IRQ_MSIX, IRQ_INTX };
static const char *const mode_names[] = {"poll", "msix", "intx"};

struct qmem qmem[MAX_QUEUES + 1];
struct nvme_ctrl ctrl;
struct nvme_queue io[MAX_QUEUES + 1];
u32 queues, granted, namespaces;
u64 ns_blocks;

static enum irq_mode mode = IRQ_POLL;
static u32 want_queues = 1, use_cpus, check_errors, force_pic, force_place, bench_mode, high_buf;
static const char *cmdline = "";
static u16 bdf;
static u32 intx_line, intx_on_pic;
static volatile u32 irqs[MAX_QUEUES + 1], intx_irqs, timer_fired[SMP_MAX_CPUS];
static volatile u32 completions, print_lock, failed;

/* ---- output and failure ---- */

void lock(void) {
  while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE)) __asm__ volatile("pause");
}
void unlock(void) { __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE); }

void say(const char *text) {
  lock();
  puts("nvmetest: ");
  puts(text);
  unlock();
}

void put_status(u32 status) {
  if (status == NVME_TIMEOUT) {
    puts("timeout");
    return;
  }
  static const char digits[] = "0123456789abcdef";
  puts("0x");
  for (int shift = 8; shift >= 0; shift -= 4) putc(digits[(status >> shift) & 0xf]);
}

void fail_now(const char *what, u32 status) {
  lock();
  puts("nvmetest: FAIL: ");
  puts(what);
  if (status) {
    puts(" (status ");
    put_status(status);
    puts(")");
  }
  puts("\n");
  unlock();
  debug_exit(1);
}

/* ---- the command line ---- */

static int word_is(const char *s, const char *word) {
  u32 n = strlen(word);
  return !memcmp(s, word, n) && (s[n] == 0 || s[n] == ' ');
}

static void parse(u32 *info) {
  if (!(info[0] & (1u << 2))) return;
  cmdline = (const char *)info[4];
  for (const char *s = (const char *)info[4]; *s; s++) {
    if (s != (const char *)info[4] && s[-1] != ' ') continue;
    if (word_is(s, "irq=poll")) mode = IRQ_POLL;
    else if (word_is(s, "irq=msix")) mode = IRQ_MSIX;
    else if (word_is(s, "irq=intx")) mode = IRQ_INTX;
    else if (word_is(s, "cpus")) use_cpus = 1;
    else if (word_is(s, "check=errors")) check_errors = 1;
    else if (word_is(s, "pic")) force_pic = 1;
    else if (word_is(s, "place")) force_place = 1;
    else if (word_is(s, "bench")) bench_mode = 1;
    else if (word_is(s, "buf=high")) high_buf = 1;
    else if (!memcmp(s, "irq=", 4)) fail_now("bad command line: irq= takes poll, msix or intx", 0);
    else if (!memcmp(s, "queues=", 7)) {
      u32 n = 0;
      const char *d = s + 7;
      for (; *d >= '0' && *d <= '9'; d++) n = n * 10 + (u32)(*d - '0');
      if (n < 1 || n > MAX_QUEUES || (*d && *d != ' '))
        fail_now("bad command line: queues= takes 1 to 16", 0);
      want_queues = n;
    }
  }
}

/* ---- interrupts ---- */

static u32 this_cpu(void) { return smp_apic_id() % SMP_MAX_CPUS; }

void timer_irq(void) __attribute__((used));
void timer_irq(void) {
  timer_fired[this_cpu()] = 1;
  lapic_eoi();
}

void wake_irq(void) __attribute__((used));
void wake_irq(void) { lapic_eoi(); }

/* INTx: mask the controller's interrupt (INTMS), read back, before the EOI, so the level line is
 * low when the I/O APIC or the 8259 looks again; the waiter unmasks (INTMC) after consuming the completion. */
void intx_irq(void) __attribute__((used));
void intx_irq(void) {
  nvme_write32(&ctrl, NVME_INTMS, 1);
  /* MMIO writes are posted (on PCI, and toykvm's ioregionfd doorbells): a read of the device
   * flushes the write before it, so the line is low before the EOI and the interrupt does not
   * come again at once. */
  (void)nvme_read32(&ctrl, NVME_CSTS);
  intx_irqs++;
  if (intx_on_pic) {
    if (intx_line >= 8) outb(0xa0, 0x20);
    outb(0x20, 0x20);
  } else {
    lapic_eoi();
  }
}

/* MSI-X vector v: counted, and checked to have reached the CPU its table entry names. */
static volatile u32 vector_owner[MAX_QUEUES + 1], misrouted;
static void msix_irq(u32 v) {
  irqs[v]++;
  if (smp_apic_id() != vector_owner[v]) misrouted++;
  lapic_eoi();
}

void timer_entry(void), wake_entry(void), intx_entry(void);
INTERRUPT_ENTRY(timer_entry, timer_irq);
INTERRUPT_ENTRY(wake_entry, wake_irq);
INTERRUPT_ENTRY(intx_entry, intx_irq);

#define MSIX_HANDLER(n)                                                                      \
  void msix_irq_##n(void) __attribute__((used));                                             \
  void msix_irq_##n(void) { msix_irq(n); }                                                   \
  void msix_entry_##n(void);                                                                 \
  INTERRUPT_ENTRY(msix_entry_##n, msix_irq_##n)
MSIX_HANDLER(0); MSIX_HANDLER(1); MSIX_HANDLER(2); MSIX_HANDLER(3); MSIX_HANDLER(4);
MSIX_HANDLER(5); MSIX_HANDLER(6); MSIX_HANDLER(7); MSIX_HANDLER(8); MSIX_HANDLER(9);
MSIX_HANDLER(10); MSIX_HANDLER(11); MSIX_HANDLER(12); MSIX_HANDLER(13); MSIX_HANDLER(14);
MSIX_HANDLER(15); MSIX_HANDLER(16);
static void (*const msix_entries[MAX_QUEUES + 1])(void) = {
    msix_entry_0,  msix_entry_1,  msix_entry_2,  msix_entry_3,  msix_entry_4,  msix_entry_5,
    msix_entry_6,  msix_entry_7,  msix_entry_8,  msix_entry_9,  msix_entry_10, msix_entry_11,
    msix_entry_12, msix_entry_13, msix_entry_14, msix_entry_15, msix_entry_16};

/* Polling: the phase tag, with the local APIC timer as the deadline. */
static int wait_poll(struct nvme_ctrl *c, struct nvme_queue *q, u32 ms) {
  (void)c;
  lapic_timer_start(ms, LVT_MASKED);
  for (u32 i = 0;; i++) {
    if (nvme_cqe_ready(q)) break;
    if ((i & 255) == 0 && lapic_timer_expired()) break;
    __asm__ volatile("pause");
  }
  lapic_timer_stop();
  return nvme_cqe_ready(q);
}

/* Interrupts: sleep in hlt until the completion is there and an interrupt came after the
 * submission, or the watchdog fires. IF is 0 outside this loop. */
static int wait_irq(struct nvme_ctrl *c, struct nvme_queue *q, u32 ms) {
  (void)c;
  u32 cpu = this_cpu();
  timer_fired[cpu] = 0;
  lapic_timer_start(ms, VEC_WATCHDOG);
  int ok;
  for (;;) {
    __asm__ volatile("cli" ::: "memory");
    ok = nvme_cqe_ready(q) && *q->irqs != q->irq_mark;
    if (ok || timer_fired[cpu]) break;
    __asm__ volatile("sti; hlt" ::: "memory"); /* sti's shadow: no wake-up lost before hlt */
  }
  lapic_timer_stop();
  return ok;
}

static void intx_consumed(struct nvme_ctrl *c, struct nvme_queue *q) {
  (void)q;
  nvme_write32(c, NVME_INTMC, 1);
}

/* Where a queue's completions are counted in the interrupt modes. */
static void count_irqs(struct nvme_queue *q) {
  if (mode == IRQ_MSIX) q->irqs = &irqs[q->vector];
  if (mode == IRQ_INTX) q->irqs = &intx_irqs;
}

/* ---- set-up, per mode ---- */

static u32 cpu_ids[SMP_MAX_CPUS]; /* the APIC ID of each CPU, the BSP first */
static u32 cpus = 1, workers = 1;

/* MSI-X: vector 0 (the admin queue) to the BSP, vector q to the CPU that owns queue pair q. */
/* Fewer vectors than asked for (a table of the device's queues + 1) means fewer queue pairs. */
static void msix(u32 vectors) {
  u32 dest[MAX_QUEUES + 1];
  for (u32 v = 0; v < vectors; v++) {
    dest[v] = use_cpus && v >= 1 && v - 1 < workers ? cpu_ids[v - 1] : cpu_ids[0];
    vector_owner[v] = dest[v];
  }
  u32 used = setup_msix(bdf, vectors, dest, msix_entries, VEC_MSIX);
  if (used - 1 < want_queues) want_queues = used - 1;
}

/* ---- the pattern ---- */

static u32 pattern(u32 lba, u32 word) { return lba * 0x9e3779b1u ^ word * 0x85ebca6bu ^ 0x4e564d45u; }

/* Transfer i of the pattern: its first block, its length and the data's offset in the page. */
static void transfer(u32 i, u32 *lba, u32 *blocks, u32 *offset) {
  if (i < 256) { /* 1 block, PRP1 only, at eight offsets */
    *lba = i;
    *blocks = 1;
    *offset = (i % 8) * 512;
  } else if (i < 320) { /* 8 blocks = 4 KiB at a non-zero offset: PRP1 and PRP2 */
    *lba = 256 + 8 * (i - 256);
    *blocks = 8;
    *offset = ((i - 256) % 7 + 1) * 512;
  } else { /* 64 blocks = 32 KiB: PRP1 and a PRP list of 7 or 8 entries */
    *lba = 768 + 64 * (i - 320);
    *blocks = 64;
    *offset = (i - 320) % 2 ? 0x400 : 0;
  }
}

static void fail_transfer(const char *what, u32 lba, u32 blocks, u32 q, u32 status) {
  if (__atomic_exchange_n(&failed, 1, __ATOMIC_SEQ_CST)) return; /* the first failure only */
  lock();
  puts("nvmetest: FAIL: ");
  puts(what);
  puts(" of LBA ");
  putu(lba);
  puts(" (");
  putu(blocks);
  puts(" blocks) on queue ");
  putu(q);
  puts(": status ");
  put_status(status);
  puts("\n");
  unlock();
}

/* Writes (or reads back and verifies) the transfers that belong to worker w. */
static void run_phase(u32 w, int write) {
  for (u32 i = 0; i < TRANSFERS && !failed; i++) {
    if (use_cpus && i % workers != w) continue;
    u32 q = use_cpus ? w + 1 : 1 + i % queues;
    u32 lba, blocks, offset;
    transfer(i, &lba, &blocks, &offset);
    u32 *buf = (u32 *)(qmem[q].data + offset);
    for (u32 b = 0; b < blocks; b++)
      for (u32 k = 0; k < 128; k++) buf[b * 128 + k] = write ? pattern(lba + b, k) : 0xdeadbeefu;
    struct nvme_cmd cmd;
    struct nvme_cqe e;
    u64 dma = high_buf ? high_twin(q, offset) : (u32)buf;
    if (high_buf) high_copy(dma, buf, blocks * 512, 0); /* the pattern, or the poison */
    nvme_rw_cmd_at(&cmd, write ? NVME_CMD_WRITE : NVME_CMD_READ, NSID, lba, blocks, dma,
                   qmem[q].prp_list);
    u32 status = nvme_exec(&ctrl, &io[q], &cmd, &e, CMD_MS);
    __atomic_fetch_add(&completions, 1, __ATOMIC_SEQ_CST);
    if (status == 0 && e.sqid != q) status = 0xfffe;
    if (status) {
      fail_transfer(write ? "write" : "read", lba, blocks, q, status);
      return;
    }
    if (write) continue;
    if (high_buf) high_copy(dma, buf, blocks * 512, 1);
    for (u32 b = 0; b < blocks; b++) {
      for (u32 k = 0; k < 128; k++) {
        if (buf[b * 128 + k] == pattern(lba + b, k)) continue;
        if (__atomic_exchange_n(&failed, 1, __ATOMIC_SEQ_CST)) return;
        lock();
        puts("nvmetest: FAIL: read back LBA ");
        putu(lba + b);
        puts(" word ");
        putu(k);
        puts(" (queue ");
        putu(q);
        puts("): got ");
        putx(buf[b * 128 + k]);
        puts(", want ");
        putx(pattern(lba + b, k));
        puts("\n");
        unlock();
        return;
      }
    }
  }
}

/* ---- the other CPUs ---- */

static volatile u32 checkins, go_phase, phase_done[3];

/* An AP: the shared IDT, its local APIC, then each phase the BSP starts (with a wake-up IPI). */
static void ap_main(void) {
  idt_load();
  lapic_enable(VEC_SPURIOUS);
  u32 id = smp_apic_id();
  u32 slot = __atomic_add_fetch(&checkins, 1, __ATOMIC_SEQ_CST);
  if (slot < SMP_MAX_CPUS) cpu_ids[slot] = id;
  for (u32 seen = 0;;) {
    __asm__ volatile("cli" ::: "memory");
    while (go_phase == seen) __asm__ volatile("sti; hlt; cli" ::: "memory");
    seen = go_phase;
    u32 w = 0; /* this CPU's place in cpu_ids, which the BSP sorted after the check-ins */
    while (w < cpus && cpu_ids[w] != id) w++;
    if (w < workers) run_phase(w, seen == 1);
    __atomic_add_fetch(&phase_done[seen], 1, __ATOMIC_SEQ_CST);
  }
}

/* Waits (polling, the local APIC timer as the deadline) until *p reaches want. */
static int wait_count(volatile u32 *p, u32 want, u32 ms) {
  lapic_timer_start(ms, LVT_MASKED);
  while (*p < want && !lapic_timer_expired()) __asm__ volatile("pause");
  lapic_timer_stop();
  return *p >= want;
}

static void start_cpus(void) {
  cpus = smp_cpu_count(0);
  if (cpus < 1 || cpus > SMP_MAX_CPUS) fail_now("fw_cfg CPU count out of range", 0);
  if (cpus > 1) {
    smp_prepare(ap_main);
    smp_start(0, ICR_ALL_BUT_SELF);
    if (!wait_count(&checkins, cpus - 1, 5000)) fail_now("not every AP checked in", 0);
    /* By APIC ID, so that queue q + 1 belongs to the q-th CPU whatever order they came in. */
    for (u32 i = 1; i < cpus; i++)
      for (u32 j = i; j > 1 && cpu_ids[j - 1] > cpu_ids[j]; j--) {
        u32 t = cpu_ids[j];
        cpu_ids[j] = cpu_ids[j - 1];
        cpu_ids[j - 1] = t;
      }
  }
  workers = cpus < want_queues ? cpus : want_queues;
  lock();
  puts("nvmetest: ");
  putu(cpus);
  puts(" CPU(s) running\n");
  unlock();
}

/* Runs one phase on every worker at once (the BSP is worker 0). */
static void phase(int write) {
  u32 p = write ? 1 : 2;
  if (use_cpus && cpus > 1) {
    __atomic_store_n(&go_phase, p, __ATOMIC_SEQ_CST);
    smp_send_ipi(0, ICR_FIXED | ICR_ALL_BUT_SELF | VEC_WAKE);
  }
  run_phase(0, write);
  if (use_cpus && cpus > 1 && !wait_count(&phase_done[p], cpus - 1, 120000))
    fail_now("the other CPUs did not finish their share in 120 s", 0);
}

/* ---- the controller ---- */

static void put_field(const u8 *p, u32 n) {
  while (n && (p[n - 1] == ' ' || p[n - 1] == 0)) n--;
  for (u32 i = 0; i < n; i++) putc(p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?');
}

static void identify(void) {
  u8 *page = qmem[0].data;
  u32 status = nvme_identify(&ctrl, NVME_CNS_CONTROLLER, 0, page, CMD_MS);
  if (status) fail_now("Identify controller", status);
  namespaces = *(u32 *)(page + 516);
  u32 mdts = page[77];
  lock();
  puts("nvmetest: identify: model \"");
  put_field(page + 24, 40);
  puts("\", serial \"");
  put_field(page + 4, 20);
  puts("\", ");
  putu(namespaces);
  puts(" namespace(s)\n");
  unlock();
  if (mdts && (NVME_PAGE << mdts) < 64 * 512) fail_now("MDTS below 32 KiB", 0);
  memset(page, 0xff, NVME_PAGE);
  status = nvme_identify(&ctrl, NVME_CNS_NAMESPACE, NSID, page, CMD_MS);
  if (status) fail_now("Identify namespace 1", status);
  ns_blocks = *(u64 *)page;
  u32 lbaf = *(u32 *)(page + 128 + 4 * (page[26] & 0xf));
  u32 block = 1u << ((lbaf >> 16) & 0xff);
  lock();
  puts("nvmetest: namespace 1: ");
  putu((u32)ns_blocks);
  puts(" blocks of ");
  putu(block);
  puts(" bytes (");
  putu((u32)(ns_blocks * block >> 20));
  puts(" MiB)\n");
  unlock();
  if (block != 512) fail_now("namespace 1's blocks are not 512 bytes", 0);
  if (ns_blocks < PATTERN_BLOCKS) fail_now("namespace 1 is smaller than 1 MiB", 0);
}

static void create_queues(void) {
  u32 status = nvme_set_queue_count(&ctrl, want_queues, &granted, CMD_MS);
  if (status) fail_now("Set Features, Number of Queues", status);
  queues = granted < want_queues ? granted : want_queues;
  if (workers > queues) workers = queues; /* the other CPUs idle */
  u32 entries = (u32)(ctrl.cap & 0xffff) + 1;
  if (entries > IO_ENTRIES) entries = IO_ENTRIES;
  for (u32 q = 1; q <= queues; q++) {
    /* Without MSI-X there is one interrupt (INTx), vector 0 for every CQ. */
    nvme_queue_init(&io[q], (u16)q, (u16)entries, qmem[q].sq, qmem[q].cq, mode == IRQ_MSIX ? q : 0);
    count_irqs(&io[q]);
    status = nvme_create_cq(&ctrl, &io[q], mode != IRQ_POLL, CMD_MS);
    if (status) fail_now("Create I/O Completion Queue", status);
    status = nvme_create_sq(&ctrl, &io[q], (u16)q, CMD_MS);
    if (status) fail_now("Create I/O Submission Queue", status);
  }
  lock();
  puts("nvmetest: queues: asked for ");
  putu(want_queues);
  puts(", granted ");
  putu(granted);
  puts(", created ");
  putu(queues);
  puts(" pair(s) of ");
  putu(entries);
  puts(" entries\n");
  if (use_cpus) {
    puts("nvmetest: cpus: ");
    putu(workers);
    puts(" CPU(s) each own a queue pair\n");
  }
  unlock();
}

static void pattern_test(void) {
  say("write: 2048 blocks (1 MiB) in 340 commands: 256 x 1 block, 64 x 8, 20 x 64\n");
  phase(1);
  if (failed) debug_exit(1);
  struct nvme_cmd cmd;
  nvme_rw_cmd(&cmd, NVME_CMD_FLUSH, NSID, 0, 0, 0, 0);
  u32 status = nvme_exec(&ctrl, &io[1], &cmd, 0, CMD_MS);
  if (status) fail_now("Flush", status);
  say("flush: done\n");
  phase(0);
  if (failed) debug_exit(1);
  say("read: 2048 blocks read back and verified\n");
}

/* The queues' share of the work and, with interrupts, how many came and where. */
static void report(void) {
  u32 done = ctrl.admin.completions;
  for (u32 q = 1; q <= queues; q++) done += io[q].completions;
  if (use_cpus) {
    for (u32 q = 1; q <= queues; q++) {
      lock();
      puts("nvmetest: queue ");
      putu(q);
      puts(": ");
      putu(io[q].completions);
      puts(" commands");
      if (q - 1 < workers) {
        puts(" by the CPU of APIC ID ");
        putu(cpu_ids[q - 1]);
      }
      if (mode == IRQ_MSIX) {
        puts(", ");
        putu(irqs[q]);
        puts(" MSI-X interrupts to it");
      }
      puts("\n");
      unlock();
    }
  }
  if (mode == IRQ_POLL) return;
  u32 taken = intx_irqs;
  for (u32 v = 0; v <= MAX_QUEUES; v++) taken += irqs[v];
  lock();
  puts("nvmetest: interrupts: ");
  putu(taken);
  puts(" for ");
  putu(done);
  puts(" completions\n");
  unlock();
  /* bench reaps several completions per interrupt at depth qd */
  if (taken < done && !bench_mode) fail_now("fewer interrupts than completions", 0);
  if (misrouted) fail_now("an MSI-X interrupt reached a CPU its entry does not name", 0);
}

void kmain(u32 magic, u32 *info) {
  smp_load_gdt();
  tables_init();
  if (magic != 0x2BADB002) fail_now("not started by a multiboot loader", 0);
  parse(info);
  lock();
  puts("nvmetest: NVMe driver test, irq=");
  puts(mode_names[mode]);
  puts(" queues=");
  putu(want_queues);
  puts(use_cpus ? " cpus" : "");
  puts(check_errors ? " check=errors" : "");
  puts(high_buf ? " buf=high" : "");
  puts(bench_mode ? " bench\n" : "\n");
  unlock();
  if (use_cpus && mode == IRQ_INTX) fail_now("cpus needs irq=poll or irq=msix", 0);
  if (high_buf && (check_errors || bench_mode)) fail_now("buf=high goes with the pattern only", 0);
  if (high_buf) {
    if (!high_setup(info)) fail_now("buf=high: no RAM at 4 GiB in the memory map", 0);
    say("data buffers above 4 GiB, from 0x100000000\n");
  }
  idt_set(VEC_WAKE, wake_entry);
  idt_set(VEC_WATCHDOG, timer_entry);
  idt_set(VEC_SPURIOUS, iret_entry);
  pic_init_masked(VEC_PIC, VEC_PIC + 8); /* firmware may have left IRQ 0 on */
  lapic_enable(VEC_SPURIOUS);
  cpu_ids[0] = smp_apic_id();
  if (use_cpus) start_cpus();

  bdf = find_controller(force_place);
  u16 command = pci_read16(bdf, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
  if (mode == IRQ_INTX) command &= (u16)~PCI_COMMAND_INTX_DISABLE;
  else command |= PCI_COMMAND_INTX_DISABLE;
  pci_write16(bdf, PCI_COMMAND, command);

  /* MSI-X before the controller is enabled, as Linux does: a controller may bind a CQ to its
   * vector only while MSI-X is on (QEMU's does, the admin CQ's at enable). */
  if (mode == IRQ_MSIX) msix(want_queues + 1);
  const char *why = nvme_enable(&ctrl, qmem[0].sq, qmem[0].cq, ADMIN_ENTRIES);
  if (why) fail_now(why, 0);
  lock();
  u32 vs = nvme_read32(&ctrl, NVME_VS);
  puts("nvmetest: enabled: version ");
  putu(vs >> 16);
  puts(".");
  putu((vs >> 8) & 0xff);
  puts(", MQES ");
  putu((u32)(ctrl.cap & 0xffff));
  puts(", doorbell stride ");
  putu(ctrl.dstrd);
  puts(", timeout ");
  putu(ctrl.timeout_ms);
  puts(" ms\n");
  unlock();
  ctrl.wait = mode == IRQ_POLL ? wait_poll : wait_irq;
  if (mode == IRQ_INTX) {
    intx_line = setup_intx(bdf, force_pic, intx_entry, VEC_INTX, VEC_PIC, (u8)cpu_ids[0], &intx_on_pic);
    ctrl.consumed = intx_consumed;
  }
  count_irqs(&ctrl.admin);

  identify();
  create_queues();
  if (check_errors) {
    malformed_commands();
  } else if (bench_mode) {
    bench(cmdline, mode == IRQ_POLL);
  } else {
    pattern_test();
  }
  report();
  if (failures) {
    lock();
    puts("nvmetest: FAIL: ");
    putu((u32)failures);
    puts(" check(s) failed\n");
    unlock();
    debug_exit(1);
  }
  say("PASS\n");
  debug_exit(0);
}
