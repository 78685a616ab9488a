/*
 * An NVMe driver for the C guests (lib/nvme.c), after the NVM Express Base Specification: the
 * controller's registers in BAR0, reset and enable, the admin queue, Identify, Set Features,
 * I/O queue pairs, and commands with PRP1/PRP2/PRP lists. 4 KiB memory pages (CC.MPS = 0), 64-byte
 * submission and 16-byte completion entries. Waiting is the caller's: each controller has a wait
 * function (polling, or sleeping until an interrupt) the synchronous calls use. Guest-physical
 * addresses are the pointers themselves (no paging, RAM below 4 GiB). Linked only into the kernels
 * whose Makefile rules name NVME_OBJ (nvmetest); uses the local APIC timer of lib/intr.c as its clock.
 */
#ifndef TOYKVM_NVME_H
#define TOYKVM_NVME_H

#include "guest.h"

/* ---- controller registers (offsets in BAR0) ---- */
#define NVME_CAP 0x00 /* 64-bit */
#define NVME_VS 0x08
#define NVME_INTMS 0x0c
#define NVME_INTMC 0x10
#define NVME_CC 0x14
#define NVME_CSTS 0x1c
#define NVME_AQA 0x24
#define NVME_ASQ 0x28 /* 64-bit */
#define NVME_ACQ 0x30 /* 64-bit */
#define NVME_DOORBELLS 0x1000

#define NVME_CC_EN 1u
#define NVME_CC_IOSQES (6u << 16) /* 2^6 = 64-byte submission entries */
#define NVME_CC_IOCQES (4u << 20) /* 2^4 = 16-byte completion entries */
#define NVME_CSTS_RDY 1u
#define NVME_CSTS_CFS 2u

/* ---- opcodes ---- */
#define NVME_ADMIN_DELETE_SQ 0x00
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_DELETE_CQ 0x04
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ADMIN_SET_FEATURES 0x09
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02
#define NVME_FEAT_NUM_QUEUES 0x07
#define NVME_CNS_NAMESPACE 0x00
#define NVME_CNS_CONTROLLER 0x01

/* ---- status (the completion's Status Field without the phase: SCT << 8 | SC) ---- */
#define NVME_SC_SUCCESS 0x000
#define NVME_SC_INVALID_OPCODE 0x001
#define NVME_SC_INVALID_FIELD 0x002
#define NVME_SC_INVALID_NS 0x00b
#define NVME_SC_PRP_OFFSET_INVALID 0x013
#define NVME_SC_LBA_RANGE 0x080
#define NVME_SC_CQ_INVALID 0x100
#define NVME_SC_QID_INVALID 0x101
#define NVME_SC_QUEUE_DELETION 0x10c
/* Not a status a controller sends: no completion came before the wait gave up. */
#define NVME_TIMEOUT 0x10000
#define NVME_PAGE 4096u

struct nvme_cmd {
  u32 dw0; /* opcode, and the command identifier in bits 31:16 */
  u32 nsid;
  u32 rsvd[2];
  u64 mptr, prp1, prp2;
  u32 cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
  u32 result, rsvd;
  u16 sqhd, sqid, cid, status; /* status: phase in bit 0, the Status Field above it */
};

struct nvme_queue {
  u16 qid, size;                /* entries in each of the pair */
  struct nvme_cmd *sq;          /* 64 * size bytes, page-aligned */
  volatile struct nvme_cqe *cq; /* 16 * size bytes, page-aligned */
  u16 sq_tail, cq_head, cid_next;
  u8 phase;                     /* the phase tag a new completion carries */
  u32 vector;                   /* its interrupt vector (MSI-X entry) */
  /* If set: completions count here (the interrupt handler increments it), and a wait ends only
   * once it moved past irq_mark, the count when the last command was submitted. */
  volatile u32 *irqs;
  u32 irq_mark;
  u32 completions; /* consumed so far */
  /* If set, nvme_reap leaves the CQ head doorbell to the next nvme_submit on this pair (or to
   * nvme_ring_cq), which rings it right before the SQ tail doorbell: one doorbell write less per
   * command where the two are posted together. The CQ cannot overflow, since every submission
   * rings it first and a pair never has more commands out than its size - 1. Not for INTx: the
   * controller keeps INTx asserted until the CQ head doorbell says everything was consumed. */
  u8 defer_cq_doorbell;
  u8 cq_doorbell_due; /* cq_head moved since the CQ head doorbell was last rung */
};

struct nvme_ctrl {
  u32 bar;        /* BAR0's guest-physical address (below 4 GiB) */
  u64 cap;
  u32 dstrd;      /* the doorbell stride: 4 << CAP.DSTRD bytes */
  u32 timeout_ms; /* CAP.TO, for CSTS.RDY */
  struct nvme_queue admin;
  /* Waits until q has a completion (or gives up after ms): whether it has one. */
  int (*wait)(struct nvme_ctrl *c, struct nvme_queue *q, u32 ms);
  /* Called after each completion is consumed (INTx unmasks the controller here); may be 0. */
  void (*consumed)(struct nvme_ctrl *c, struct nvme_queue *q);
};

static inline u32 nvme_read32(struct nvme_ctrl *c, u32 reg) { return mmio_read32(c->bar + reg); }
static inline void nvme_write32(struct nvme_ctrl *c, u32 reg, u32 v) { mmio_write32(c->bar + reg, v); }
/* The low half, then the high half: the order a 32-bit driver uses for a 64-bit register. */
u64 nvme_read64(struct nvme_ctrl *c, u32 reg);
void nvme_write64(struct nvme_ctrl *c, u32 reg, u64 v);

/* Reads CAP. Then resets the controller (CC.EN = 0, CSTS.RDY = 0 within CAP.TO), sets up the
 * admin queue pair (size entries in sq, cq) and enables it (CSTS.RDY = 1 within CAP.TO). 0, or a
 * line saying what failed, for the caller to print. */
const char *nvme_enable(struct nvme_ctrl *c, struct nvme_cmd *sq, struct nvme_cqe *cq, u16 size);
/* Disables the controller (CC.EN = 0) and waits for CSTS.RDY = 0: whether it cleared in time. */
int nvme_disable(struct nvme_ctrl *c);

/* Whether q's next completion entry is there (its phase tag is the one expected). */
static inline int nvme_cqe_ready(struct nvme_queue *q) {
  return (q->cq[q->cq_head].status & 1) == q->phase;
}
/* Puts cmd (its dw0's low 16 bits: the opcode) into q with a fresh command identifier, rings the
 * SQ tail doorbell, and returns the identifier. */
u16 nvme_submit(struct nvme_ctrl *c, struct nvme_queue *q, const struct nvme_cmd *cmd);
/* Takes q's next completion into *out, rings the CQ head doorbell (unless q defers it): 1, or 0
 * if none is there. */
int nvme_reap(struct nvme_ctrl *c, struct nvme_queue *q, struct nvme_cqe *out);
/* Rings q's CQ head doorbell if completions were reaped since it was last rung. */
void nvme_ring_cq(struct nvme_ctrl *c, struct nvme_queue *q);
/* Submits, waits (c->wait, ms) and reaps: the completion's status (SCT << 8 | SC), or
 * NVME_TIMEOUT; *out (if not 0) gets the completion. A completion for another command identifier
 * is status 0xffff. */
u32 nvme_exec(struct nvme_ctrl *c, struct nvme_queue *q, const struct nvme_cmd *cmd,
              struct nvme_cqe *out, u32 ms);

/* Fills prp1/prp2 of cmd for len bytes at buf (dword-aligned): PRP2 is the second page, or, past
 * two pages, list (a page of its own), which gets the pages after the first. */
void nvme_prps(struct nvme_cmd *cmd, void *buf, u32 len, u64 *list);
/* The same for data at the 64-bit guest-physical address addr (the list stays below 4 GiB). */
void nvme_prps_at(struct nvme_cmd *cmd, u64 addr, u32 len, u64 *list);

/* Admin commands (each waits up to ms): their status as nvme_exec returns it. */
u32 nvme_identify(struct nvme_ctrl *c, u32 cns, u32 nsid, void *page, u32 ms);
/* Set Features, Number of Queues: asks for n SQs and n CQs; *granted gets the smaller number the
 * controller allocated (NSQA + 1 and NCQA + 1). */
u32 nvme_set_queue_count(struct nvme_ctrl *c, u32 n, u32 *granted, u32 ms);
/* Create I/O Completion Queue q (physically contiguous, interrupts on q->vector if ien). */
u32 nvme_create_cq(struct nvme_ctrl *c, struct nvme_queue *q, int ien, u32 ms);
/* Create I/O Submission Queue q, completing on CQ cqid. */
u32 nvme_create_sq(struct nvme_ctrl *c, struct nvme_queue *q, u16 cqid, u32 ms);
u32 nvme_delete_queue(struct nvme_ctrl *c, u8 opcode, u16 qid, u32 ms);

/* Sets q up as an empty pair over sq and cq (size entries each), zeroing the CQ. */
void nvme_queue_init(struct nvme_queue *q, u16 qid, u16 size, struct nvme_cmd *sq,
                     struct nvme_cqe *cq, u32 vector);
/* A Read, Write or Flush command of nsid: blocks 512-byte blocks from lba, data at buf, the PRP
 * list (if needed) in list. */
void nvme_rw_cmd(struct nvme_cmd *cmd, u8 opcode, u32 nsid, u64 lba, u32 blocks, void *buf,
                 u64 *list);
/* The same with the data at the 64-bit guest-physical address addr. */
void nvme_rw_cmd_at(struct nvme_cmd *cmd, u8 opcode, u32 nsid, u64 lba, u32 blocks, u64 addr,
                    u64 *list);

#endif
