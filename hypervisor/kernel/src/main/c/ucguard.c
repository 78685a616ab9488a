/*
 * toykvm's guard around uc_emu_start.
 *
 * Debian's libunicorn 2.0.1 calls abort() when its translator meets some encodings a CPU answers
 * with #UD (ff /3 and ff /5 with a register operand: far call/jmp through a register), and abort()
 * ends the whole process. A guest must never be able to do that to its host, so every
 * uc_emu_start of toykvm runs through toykvm_guarded_emu_start: while it runs, SIGABRT raised on
 * the calling thread jumps back here and the call reports "aborted" instead.
 *
 * Why this is sound enough:
 *  - glibc's abort() releases its own lock before raise(SIGABRT) (stage 1), so jumping out of the
 *    handler leaves no libc lock held;
 *  - the abort happens while a translation block is being generated, before any of its guest
 *    instructions ran, with the CPU state synchronised at the start of that block: the caller
 *    saves that state, discards the engine (uc_close works on it) and goes on with a new one;
 *  - only the thread inside a guarded call is affected: an abort anywhere else (another thread,
 *    the JVM itself) finds no jump buffer and gets the previous disposition, as before.
 * No Java frame lies between the sigsetjmp and the abort: upcalls into Java run while guest code
 * executes, never inside the translator.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef int (*uc_emu_start_fn)(void *uc, uint64_t begin, uint64_t until, uint64_t timeout,
                               size_t count);

static __thread sigjmp_buf *active;
static struct sigaction previous;
static pthread_once_t installed = PTHREAD_ONCE_INIT;
static int install_error;

static void on_sigabrt(int sig) {
  sigjmp_buf *jump = active;
  if (jump != NULL) {
    active = NULL;
    siglongjmp(*jump, 1);
  }
  /* Not ours: whatever was there before decides (by default, the process ends). */
  sigaction(SIGABRT, &previous, NULL);
  raise(sig);
}

static void install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigabrt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_NODEFER;
  if (sigaction(SIGABRT, &sa, &previous) != 0) {
    install_error = 1;
  }
}

/* 1 if the guard is in place (call once before relying on it). */
int toykvm_guard_ready(void) {
  pthread_once(&installed, install);
  return !install_error;
}

/*
 * uc_emu_start(uc, begin, until, timeout, count) through fn; *aborted = 1 (and -1 returned) if
 * the library aborted during the call, else *aborted = 0 and uc_emu_start's result.
 */
int toykvm_guarded_emu_start(uc_emu_start_fn fn, void *uc, uint64_t begin, uint64_t until,
                             uint64_t timeout, uint64_t count, int32_t *aborted) {
  sigjmp_buf jump;
  pthread_once(&installed, install);
  *aborted = 0;
  if (sigsetjmp(jump, 1) != 0) {
    *aborted = 1;
    return -1;
  }
  active = &jump;
  int result = fn(uc, begin, until, timeout, (size_t)count);
  active = NULL;
  return result;
}
