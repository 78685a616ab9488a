/*
 * toykvm's block gate: the UC_HOOK_BLOCK callback of every vCPU engine, in C.
 *
 * A Java upcall at every translation block costs ~27 ns (design.md); most blocks need nothing.
 * This hook records where the block starts and how long it is (the in/out hook needs both for
 * rep ins/outs) and calls the Java block callback only while the gate's attention word is set.
 * Any thread sets it (a kick, an interrupt line, a memory change); the engine thread clears it
 * in the Java callback before it looks at what is pending, and sets it again while something
 * needs every block (posted writes waiting for their deadline, a read-only write to undo, an
 * armed interrupt timer, an interrupt blocked by IF or a shadow).
 */
#include <stdint.h>

struct toykvm_block_gate {
  int32_t attention;       /* @0: nonzero: call upcall at the next block (any thread writes) */
  uint32_t size;           /* @4: the last block's size */
  uint64_t address;        /* @8: the last block's linear address */
  void (*upcall)(void *uc, uint64_t address, uint32_t size, void *user); /* @16 */
};

void toykvm_block_gate_hook(void *uc, uint64_t address, uint32_t size, void *user) {
  struct toykvm_block_gate *gate = user;
  gate->address = address;
  gate->size = size;
  if (__atomic_load_n(&gate->attention, __ATOMIC_ACQUIRE) != 0) {
    gate->upcall(uc, address, size, user);
  }
}
