/*
 * The hook and store costs in docs/performance.md, "Guest speed": one loop on Debian's libunicorn
 * 2.0.1 under a variant, timed in thread CPU time (other load on the machine disturbs it less).
 *
 *   apt-get install libunicorn-dev
 *   gcc -O2 -o hook-costs hook-costs.c -lunicorn
 *   ./hook-costs - tight 200000000    # add/dec/jnz, no hook
 *   ./hook-costs B tight 200000000    # with a C UC_HOOK_BLOCK that only tests a flag
 *   ./hook-costs - load 50000000      # a load per iteration
 *   ./hook-costs M load 50000000      # ... while a memory hook exists on a range never accessed
 *   ./hook-costs - store 5000000      # a store per iteration (data and code on different pages)
 *   ./hook-costs F flush 20           # UC_CTL_TB_FLUSH after a one-block run, per call
 *
 * Variants (letters, combinable): B block hook, M memory hook, P uc->no_exit_request set, - none.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>

static volatile int flag;

static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user) {
  (void)address, (void)size, (void)user;
  if (flag) {
    uc_emu_stop(uc);
  }
}

static void on_memory(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value,
                      void *user) {
  (void)uc, (void)type, (void)address, (void)size, (void)value, (void)user;
}

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s variant tight|load|store|flush n\n", argv[0]);
    return 2;
  }
  const char *variant = argv[1];
  const char *loop = argv[2];
  long n = atol(argv[3]);
  /* 32-bit code at 0x1000; data at 0x3000 */
  uint8_t tight[] = {0x83, 0xc0, 0x01, 0x49, 0x75, 0xfa, 0xf4};      /* add eax,1; dec ecx; jnz */
  uint8_t load[] = {0x8b, 0x1d, 0x00, 0x30, 0, 0, 0x83, 0xc0, 0x01, /* mov ebx,[0x3000]; add */
                    0x49, 0x75, 0xf4, 0xf4};                         /* dec ecx; jnz; hlt */
  uint8_t store[] = {0x89, 0x05, 0x00, 0x30, 0, 0, 0x83, 0xc0, 0x01, /* mov [0x3000],eax; add */
                     0x49, 0x75, 0xf4, 0xf4};
  uint8_t one[] = {0xf4};
  uint8_t *code = tight;
  size_t length = sizeof tight;
  if (strcmp(loop, "load") == 0) {
    code = load, length = sizeof load;
  } else if (strcmp(loop, "store") == 0) {
    code = store, length = sizeof store;
  } else if (strcmp(loop, "flush") == 0) {
    code = one, length = sizeof one;
  }
  uc_engine *uc;
  if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK) {
    return 1;
  }
  uc_mem_map(uc, 0, 0x100000, UC_PROT_ALL);
  uc_mem_write(uc, 0x1000, code, length);
  uc_hook hook;
  if (strchr(variant, 'B')) {
    uc_hook_add(uc, &hook, UC_HOOK_BLOCK, on_block, NULL, 1, 0);
  }
  if (strchr(variant, 'M')) {
    uc_hook_add(uc, &hook, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, on_memory, NULL, 0x80000, 0x80fff);
  }
  if (strchr(variant, 'P')) {
    ((uint8_t *)uc)[0x78a] = 1;
  }
  double a = cpu_now();
  if (strcmp(loop, "flush") == 0) {
    for (long i = 0; i < n; i++) {
      uc_emu_start(uc, 0x1000, 0, 0, 0);
      uc_ctl_flush_tlb(uc); /* UC_CTL_TB_FLUSH, despite the macro's name */
    }
  } else {
    uint32_t ecx = n;
    uc_reg_write(uc, UC_X86_REG_ECX, &ecx);
    uc_emu_start(uc, 0x1000, 0, 0, 0);
  }
  double b = cpu_now();
  printf("%-4s %-6s n=%ld %.3f s cpu, %.2f ns per iteration\n", variant, loop, n, b - a,
         (b - a) / n * 1e9);
  uc_close(uc);
  return 0;
}
