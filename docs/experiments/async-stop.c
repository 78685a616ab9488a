/*
 * The experiment behind docs/performance.md, "Guest speed": is a uc_emu_stop from another thread
 * exact on Debian's libunicorn 2.0.1? A 32-bit loop "inc dword [data]; add eax,1; dec ecx; jnz"
 * runs n times while a second thread calls uc_emu_stop every interval_ns; the main thread resumes
 * at the RIP each stop reports. Exact means the memory counter ends equal to eax (= n).
 *
 *   apt-get install libunicorn-dev
 *   gcc -O2 -o async-stop async-stop.c -lunicorn -lpthread
 *   ./async-stop 0 20000000 20000 0   # as shipped: ~+1 per stop (counter > n)
 *   ./async-stop 1 20000000 20000 0   # no_exit_request set: exact
 *   ./async-stop 0 20000000 20000 1   # data on the code's page: the same as 0
 *
 * Arguments: exact (set uc->no_exit_request, byte 0x78a of struct uc_struct in this build),
 * n, interval_ns, samepage.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unicorn/unicorn.h>

static uc_engine *uc;
static atomic_int running = 1;
static long interval_ns = 20000;

static void *stopper(void *arg) {
  (void)arg;
  struct timespec ts = {0, interval_ns};
  while (atomic_load(&running)) {
    nanosleep(&ts, NULL);
    uc_emu_stop(uc);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s exact n interval_ns samepage\n", argv[0]);
    return 2;
  }
  int exact = atoi(argv[1]);
  long n = atol(argv[2]);
  interval_ns = atol(argv[3]);
  uint32_t data = atoi(argv[4]) ? 0x1800 : 0x3000;
  uint8_t code[] = {0xff, 0x05, data & 0xff, data >> 8, 0, 0, /* inc dword [data] */
                    0x83, 0xc0, 0x01,                         /* add eax, 1 */
                    0x49,                                     /* dec ecx */
                    0x75, 0xf4,                               /* jnz back to the inc */
                    0xf4};                                    /* hlt */
  if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK) {
    return 1;
  }
  if (exact) {
    ((uint8_t *)uc)[0x78a] = 1;
  }
  uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL);
  uc_mem_write(uc, 0x1000, code, sizeof code);
  uint32_t ecx = n, zero = 0;
  uc_reg_write(uc, UC_X86_REG_ECX, &ecx);
  uc_reg_write(uc, UC_X86_REG_EAX, &zero);
  pthread_t t;
  pthread_create(&t, NULL, stopper, NULL);
  uint64_t ip = 0x1000;
  long starts = 0;
  for (;;) {
    starts++;
    uc_err e = uc_emu_start(uc, ip, 0, 0, 0);
    if (e != UC_ERR_OK) {
      printf("error: %s\n", uc_strerror(e));
      break;
    }
    uint32_t eip;
    uc_reg_read(uc, UC_X86_REG_EIP, &eip);
    ip = eip;
    if (eip == 0x1000 + sizeof code) {
      break; /* after the hlt */
    }
  }
  atomic_store(&running, 0);
  pthread_join(t, NULL);
  uint32_t mem, eax;
  uc_mem_read(uc, data, &mem, 4);
  uc_reg_read(uc, UC_X86_REG_EAX, &eax);
  printf("exact=%d n=%ld starts=%ld counter=%u (%+ld) eax=%u (%+ld)\n", exact, n, starts, mem,
         (long)mem - n, eax, (long)eax - n);
  return 0;
}
