/* The NVMe driver of the C guests (see nvme.h). */
#include "nvme.h"
#include "intr.h"

u64 nvme_read64(struct nvme_ctrl *c, u32 reg) {
  u32 lo = nvme_read32(c, reg);
  return (u64)nvme_read32(c, reg + 4) << 32 | lo;
}

void nvme_write64(struct nvme_ctrl *c, u32 reg, u64 v) {
  nvme_write32(c, reg, (u32)v);
  nvme_write32(c, reg + 4, (u32)(v >> 32));
}

/* Waits up to the controller's timeout for CSTS.RDY to equal ready: whether it did (CFS ends the
 * wait early, as a failure). */
static int wait_ready(struct nvme_ctrl *c, u32 ready) {
  lapic_timer_start(c->timeout_ms, LVT_MASKED);
  for (;;) {
    u32 csts = nvme_read32(c, NVME_CSTS);
    if (csts == 0xffffffffu || (csts & NVME_CSTS_CFS)) break;
    if ((csts & NVME_CSTS_RDY) == ready) {
      lapic_timer_stop();
      return 1;
    }
    if (lapic_timer_expired()) break;
    __asm__ volatile("pause");
  }
  lapic_timer_stop();
  return 0;
}

int nvme_disable(struct nvme_ctrl *c) {
  u32 cc = nvme_read32(c, NVME_CC);
  /* Enabled but not ready yet: clearing EN now is undefined; let it become ready first. */
  if ((cc & NVME_CC_EN) && !(nvme_read32(c, NVME_CSTS) & NVME_CSTS_RDY)) wait_ready(c, 1);
  nvme_write32(c, NVME_CC, cc & ~NVME_CC_EN);
  return wait_ready(c, 0);
}

const char *nvme_enable(struct nvme_ctrl *c, struct nvme_cmd *sq, struct nvme_cqe *cq, u16 size) {
  c->cap = nvme_read64(c, NVME_CAP);
  c->dstrd = 4u << ((c->cap >> 32) & 0xf);
  c->timeout_ms = (u32)((c->cap >> 24) & 0xff) * 500;
  if (c->timeout_ms == 0) c->timeout_ms = 500;
  if (!((c->cap >> 37) & 1)) return "CAP.CSS: the NVM command set is not supported";
  if ((c->cap >> 48) & 0xf) return "CAP.MPSMIN: 4 KiB pages are not supported";
  if (!nvme_disable(c)) return "reset: CSTS.RDY did not clear within CAP.TO";
  nvme_queue_init(&c->admin, 0, size, sq, cq, 0);
  nvme_write32(c, NVME_AQA, (u32)(size - 1) << 16 | (u32)(size - 1));
  nvme_write64(c, NVME_ASQ, (u32)sq);
  nvme_write64(c, NVME_ACQ, (u32)cq);
  nvme_write32(c, NVME_CC, NVME_CC_IOCQES | NVME_CC_IOSQES | NVME_CC_EN);
  if (!wait_ready(c, 1)) {
    return (nvme_read32(c, NVME_CSTS) & NVME_CSTS_CFS) ? "enable: CSTS.CFS (controller fatal status)"
                                                        : "enable: CSTS.RDY not set within CAP.TO";
  }
  return 0;
}

void nvme_queue_init(struct nvme_queue *q, u16 qid, u16 size, struct nvme_cmd *sq,
                     struct nvme_cqe *cq, u32 vector) {
  q->qid = qid;
  q->size = size;
  q->sq = sq;
  q->cq = cq;
  q->sq_tail = q->cq_head = 0;
  q->cid_next = 1;
  q->phase = 1;
  q->vector = vector;
  q->irqs = 0;
  q->irq_mark = 0;
  q->completions = 0;
  q->defer_cq_doorbell = 0;
  q->cq_doorbell_due = 0;
  memset(cq, 0, 16u * size);
}

static u32 sq_doorbell(struct nvme_ctrl *c, u16 qid) { return NVME_DOORBELLS + 2u * qid * c->dstrd; }
static u32 cq_doorbell(struct nvme_ctrl *c, u16 qid) {
  return NVME_DOORBELLS + (2u * qid + 1) * c->dstrd;
}

u16 nvme_submit(struct nvme_ctrl *c, struct nvme_queue *q, const struct nvme_cmd *cmd) {
  u16 cid = q->cid_next++;
  if (q->cid_next == 0) q->cid_next = 1;
  struct nvme_cmd *slot = &q->sq[q->sq_tail];
  *slot = *cmd;
  slot->dw0 = (cmd->dw0 & 0xffff) | (u32)cid << 16;
  if (++q->sq_tail == q->size) q->sq_tail = 0;
  if (q->irqs) q->irq_mark = *q->irqs;
  __asm__ volatile("" ::: "memory"); /* the entry is in memory before the doorbell (x86: in order) */
  nvme_ring_cq(c, q);
  nvme_write32(c, sq_doorbell(c, q->qid), q->sq_tail);
  return cid;
}

int nvme_reap(struct nvme_ctrl *c, struct nvme_queue *q, struct nvme_cqe *out) {
  if (!nvme_cqe_ready(q)) return 0;
  __asm__ volatile("" ::: "memory");
  volatile struct nvme_cqe *e = &q->cq[q->cq_head];
  out->result = e->result;
  out->rsvd = e->rsvd;
  out->sqhd = e->sqhd;
  out->sqid = e->sqid;
  out->cid = e->cid;
  out->status = e->status;
  if (++q->cq_head == q->size) {
    q->cq_head = 0;
    q->phase ^= 1;
  }
  q->cq_doorbell_due = 1;
  if (!q->defer_cq_doorbell) nvme_ring_cq(c, q);
  q->completions++;
  if (c->consumed) c->consumed(c, q);
  return 1;
}

void nvme_ring_cq(struct nvme_ctrl *c, struct nvme_queue *q) {
  if (!q->cq_doorbell_due) return;
  q->cq_doorbell_due = 0;
  nvme_write32(c, cq_doorbell(c, q->qid), q->cq_head);
}

u32 nvme_exec(struct nvme_ctrl *c, struct nvme_queue *q, const struct nvme_cmd *cmd,
              struct nvme_cqe *out, u32 ms) {
  struct nvme_cqe e;
  u16 cid = nvme_submit(c, q, cmd);
  if (!c->wait(c, q, ms) || !nvme_reap(c, q, &e)) return NVME_TIMEOUT;
  if (out) *out = e;
  if (e.cid != cid) return 0xffff;
  return (u32)(e.status >> 1) & 0x7ff;
}

void nvme_prps(struct nvme_cmd *cmd, void *buf, u32 len, u64 *list) {
  nvme_prps_at(cmd, (u32)buf, len, list);
}

void nvme_prps_at(struct nvme_cmd *cmd, u64 addr, u32 len, u64 *list) {
  cmd->prp1 = addr;
  cmd->prp2 = 0;
  u32 first = NVME_PAGE - (u32)(addr & (NVME_PAGE - 1)); /* bytes in the first page */
  if (len <= first) return;
  u64 next = (addr & ~(u64)(NVME_PAGE - 1)) + NVME_PAGE;
  if (len - first <= NVME_PAGE) {
    cmd->prp2 = next;
    return;
  }
  u32 pages = (len - first + NVME_PAGE - 1) / NVME_PAGE;
  for (u32 i = 0; i < pages; i++) list[i] = next + (u64)i * NVME_PAGE;
  cmd->prp2 = (u32)list;
}

void nvme_rw_cmd(struct nvme_cmd *cmd, u8 opcode, u32 nsid, u64 lba, u32 blocks, void *buf,
                 u64 *list) {
  nvme_rw_cmd_at(cmd, opcode, nsid, lba, blocks, (u32)buf, list);
}

void nvme_rw_cmd_at(struct nvme_cmd *cmd, u8 opcode, u32 nsid, u64 lba, u32 blocks, u64 addr,
                    u64 *list) {
  memset(cmd, 0, sizeof *cmd);
  cmd->dw0 = opcode;
  cmd->nsid = nsid;
  if (opcode == NVME_CMD_FLUSH) return;
  nvme_prps_at(cmd, addr, blocks * 512, list);
  cmd->cdw10 = (u32)lba;
  cmd->cdw11 = (u32)(lba >> 32);
  cmd->cdw12 = blocks - 1;
}

u32 nvme_identify(struct nvme_ctrl *c, u32 cns, u32 nsid, void *page, u32 ms) {
  struct nvme_cmd cmd;
  memset(&cmd, 0, sizeof cmd);
  cmd.dw0 = NVME_ADMIN_IDENTIFY;
  cmd.nsid = nsid;
  cmd.prp1 = (u32)page;
  cmd.cdw10 = cns;
  return nvme_exec(c, &c->admin, &cmd, 0, ms);
}

u32 nvme_set_queue_count(struct nvme_ctrl *c, u32 n, u32 *granted, u32 ms) {
  struct nvme_cmd cmd;
  struct nvme_cqe e;
  memset(&cmd, 0, sizeof cmd);
  cmd.dw0 = NVME_ADMIN_SET_FEATURES;
  cmd.cdw10 = NVME_FEAT_NUM_QUEUES;
  cmd.cdw11 = (n - 1) << 16 | (n - 1);
  u32 status = nvme_exec(c, &c->admin, &cmd, &e, ms);
  if (status == 0) {
    u32 sqs = (e.result & 0xffff) + 1, cqs = (e.result >> 16) + 1;
    *granted = sqs < cqs ? sqs : cqs;
  }
  return status;
}

u32 nvme_create_cq(struct nvme_ctrl *c, struct nvme_queue *q, int ien, u32 ms) {
  struct nvme_cmd cmd;
  memset(&cmd, 0, sizeof cmd);
  cmd.dw0 = NVME_ADMIN_CREATE_CQ;
  cmd.prp1 = (u32)q->cq;
  cmd.cdw10 = (u32)(q->size - 1) << 16 | q->qid;
  cmd.cdw11 = q->vector << 16 | (ien ? 2u : 0u) | 1u; /* IV, IEN, PC */
  return nvme_exec(c, &c->admin, &cmd, 0, ms);
}

u32 nvme_create_sq(struct nvme_ctrl *c, struct nvme_queue *q, u16 cqid, u32 ms) {
  struct nvme_cmd cmd;
  memset(&cmd, 0, sizeof cmd);
  cmd.dw0 = NVME_ADMIN_CREATE_SQ;
  cmd.prp1 = (u32)q->sq;
  cmd.cdw10 = (u32)(q->size - 1) << 16 | q->qid;
  cmd.cdw11 = (u32)cqid << 16 | 1u; /* CQID, PC; priority 0 */
  return nvme_exec(c, &c->admin, &cmd, 0, ms);
}

u32 nvme_delete_queue(struct nvme_ctrl *c, u8 opcode, u16 qid, u32 ms) {
  struct nvme_cmd cmd;
  memset(&cmd, 0, sizeof cmd);
  cmd.dw0 = opcode;
  cmd.cdw10 = qid;
  return nvme_exec(c, &c->admin, &cmd, 0, ms);
}
