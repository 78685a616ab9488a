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
 *
 * It also watches for libunicorn 2.0.1's real-mode far return bug (ARCHITECTURE.md, "The
 * real-mode retf"): with a memory-read hook installed, a retf/retf imm16 in real mode or vm86
 * leaves EIP at the retf's own linear address. That EIP lies in the last bytes of the block that
 * just ran, which a few loads of the live CPU state tell; only then (and not for the block pair
 * remembered as "not a retf") the Java far-return callback decides, and stops before this block
 * when the EIP must be repaired.
 */
#include <stddef.h>
#include <stdint.h>

/* Offsets in libunicorn 2.0.1's CPUX86State (the same as CpuState's). */
#define ENV_EIP 128
#define ENV_EFLAGS 136
#define ENV_HFLAGS 176
#define ENV_CS_BASE (184 + 24 + 8)
#define HF_PE (1u << 7)
#define EFLAGS_VM (1u << 17)
#define MAX_INSN 15

/* What the far-return callback answers. */
#define FAR_RETURN_NOT 0      /* the block did not end with a retf at EIP: remember the pair */
#define FAR_RETURN_REPAIRED 1 /* the engine is stopped before this block, to repair EIP */

struct toykvm_block_gate {
  int32_t attention;       /* @0: nonzero: call upcall at the next block (any thread writes) */
  uint32_t size;           /* @4: the last block's size; 0: no block known */
  uint64_t address;        /* @8: the last block's linear address */
  void (*upcall)(void *uc, uint64_t address, uint32_t size, void *user); /* @16 */
  const uint8_t *env;      /* @24: the engine's live CPUX86State, or NULL: no far-return watch */
  int32_t (*far_return)(void *uc, uint64_t prev, uint32_t prev_size, void *user); /* @32 */
  uint64_t memo_prev;      /* @40: the last pair found not to be a far return: the block, */
  uint64_t memo_address;   /* @48: the next block, */
  uint64_t memo_eip;       /* @56: the EIP at it, */
  uint32_t memo_size;      /* @64: and the block's size (0: nothing remembered) */
  uint32_t unused;         /* @68 */
};

/* Whether EIP may have been left at the linear address of a retf ending block [prev, +size). */
static int far_return_suspect(const struct toykvm_block_gate *gate, const uint8_t *env,
                              uint64_t prev, uint32_t prev_size, uint64_t address) {
  if (address == gate->memo_address && prev == gate->memo_prev && prev_size == gate->memo_size
      && *(const uint64_t *)(env + ENV_EIP) == gate->memo_eip) {
    return 0; /* a tight loop that was already looked at */
  }
  if ((*(const uint32_t *)(env + ENV_HFLAGS) & HF_PE) != 0
      && (*(const uint64_t *)(env + ENV_EFLAGS) & EFLAGS_VM) == 0) {
    return 0; /* protected or long mode: Unicorn's lret helper sets EIP right */
  }
  uint64_t eip = *(const uint64_t *)(env + ENV_EIP);
  if (eip - prev >= prev_size || prev + prev_size - eip > MAX_INSN) {
    return 0;
  }
  return *(const uint64_t *)(env + ENV_CS_BASE) + eip == address;
}

void toykvm_block_gate_hook(void *uc, uint64_t address, uint32_t size, void *user) {
  struct toykvm_block_gate *gate = user;
  uint64_t prev = gate->address;
  uint32_t prev_size = gate->size;
  gate->address = address;
  gate->size = size;
  const uint8_t *env = gate->env;
  if (env != NULL && prev_size != 0 && far_return_suspect(gate, env, prev, prev_size, address)) {
    int32_t answer = gate->far_return(uc, prev, prev_size, user);
    if (answer == FAR_RETURN_REPAIRED) {
      return; /* this block does not run; the attention upcall comes at the right one */
    }
    if (answer == FAR_RETURN_NOT) {
      gate->memo_prev = prev;
      gate->memo_address = address;
      gate->memo_eip = *(const uint64_t *)(env + ENV_EIP);
      gate->memo_size = prev_size;
    }
  }
  if (__atomic_load_n(&gate->attention, __ATOMIC_ACQUIRE) != 0) {
    gate->upcall(uc, address, size, user);
  }
}

/* UC_HOOK_EDGE_GENERATED: a block was translated, perhaps from new bytes: forget the pair. */
void toykvm_block_gate_translated(void *uc, void *cur, void *prev, void *user) {
  (void)uc;
  (void)cur;
  (void)prev;
  ((struct toykvm_block_gate *)user)->memo_size = 0;
}
