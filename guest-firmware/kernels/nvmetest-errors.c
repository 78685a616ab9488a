/*
 * nvmetest's check=errors: malformed commands, each with the status the NVM Express Base
 * Specification gives it (Status Code Type << 8 | Status Code), then proof that the queues still
 * work. One "ok   ..." or "FAIL ..." line per command; run on the BSP alone after the I/O queues
 * exist.
 */
#include "nvmetest.h"

static void expect(const char *what, u32 status, u32 want) {
  puts(status == want ? "ok   " : "FAIL ");
  puts(what);
  puts(": status ");
  put_status(status);
  if (status != want) {
    puts(", want ");
    put_status(want);
    failures++;
  }
  puts("\n");
}

static u32 io_cmd(struct nvme_cmd *cmd) { return nvme_exec(&ctrl, &io[1], cmd, 0, CMD_MS); }
static u32 admin_cmd(struct nvme_cmd *cmd) { return nvme_exec(&ctrl, &ctrl.admin, cmd, 0, CMD_MS); }

static void read_cmd(struct nvme_cmd *cmd, u32 nsid, u64 lba, u32 blocks, u32 offset) {
  nvme_rw_cmd(cmd, NVME_CMD_READ, nsid, lba, blocks, qmem[1].data + offset, qmem[1].prp_list);
}

static void queue_cmd(struct nvme_cmd *cmd, u8 opcode, u16 qid, u32 cdw11) {
  memset(cmd, 0, sizeof *cmd);
  cmd->dw0 = opcode;
  cmd->prp1 = (u32)qmem[0].prp_list; /* a spare page: the command must fail before using it */
  cmd->cdw10 = (u32)(IO_ENTRIES - 1) << 16 | qid;
  cmd->cdw11 = cdw11;
}

static void opcodes(void) {
  struct nvme_cmd cmd;
  read_cmd(&cmd, NSID, 0, 1, 0);
  cmd.dw0 = 0x7f;
  expect("I/O opcode 0x7f: Invalid Command Opcode", io_cmd(&cmd), NVME_SC_INVALID_OPCODE);
  memset(&cmd, 0, sizeof cmd);
  cmd.dw0 = 0x3f;
  expect("admin opcode 0x3f: Invalid Command Opcode", admin_cmd(&cmd), NVME_SC_INVALID_OPCODE);
}

static void lba_range(void) {
  struct nvme_cmd cmd;
  read_cmd(&cmd, NSID, ns_blocks, 1, 0);
  expect("read of the block after the last: LBA Out of Range", io_cmd(&cmd), NVME_SC_LBA_RANGE);
  read_cmd(&cmd, NSID, ns_blocks - 1, 2, 0);
  expect("read of 2 blocks from the last: LBA Out of Range", io_cmd(&cmd), NVME_SC_LBA_RANGE);
}

static void prp_offsets(void) {
  struct nvme_cmd cmd;
  read_cmd(&cmd, NSID, 0, 8, 0x200); /* two pages: PRP2 names the second, which must be aligned */
  cmd.prp2 += 0x100;
  expect("PRP2 with an offset: PRP Offset Invalid", io_cmd(&cmd), NVME_SC_PRP_OFFSET_INVALID);
  read_cmd(&cmd, NSID, 0, 64, 0); /* PRP1 and a list of 7 pages */
  qmem[1].prp_list[1] += 0x80;
  expect("PRP list entry with an offset: PRP Offset Invalid", io_cmd(&cmd),
         NVME_SC_PRP_OFFSET_INVALID);
}

static void queue_ids(void) {
  struct nvme_cmd cmd;
  queue_cmd(&cmd, NVME_ADMIN_CREATE_CQ, 0, 1);
  expect("Create I/O CQ 0: Invalid Queue Identifier", admin_cmd(&cmd), NVME_SC_QID_INVALID);
  u16 beyond = (u16)(granted + 1);
  queue_cmd(&cmd, NVME_ADMIN_CREATE_CQ, beyond, 1);
  expect("Create I/O CQ beyond the queues granted: Invalid Queue Identifier", admin_cmd(&cmd),
         NVME_SC_QID_INVALID);
  queue_cmd(&cmd, NVME_ADMIN_CREATE_CQ, 1, 1);
  expect("Create I/O CQ 1 again: Invalid Queue Identifier", admin_cmd(&cmd), NVME_SC_QID_INVALID);
  if (queues < granted) {
    u16 free_id = (u16)(queues + 1);
    queue_cmd(&cmd, NVME_ADMIN_CREATE_SQ, free_id, (u32)free_id << 16 | 1);
    expect("Create I/O SQ on a CQ that does not exist: Completion Queue Invalid", admin_cmd(&cmd),
           NVME_SC_CQ_INVALID);
  } else {
    puts("skip Create I/O SQ on a missing CQ: every granted queue id is in use\n");
  }
  queue_cmd(&cmd, NVME_ADMIN_DELETE_SQ, beyond, 0);
  expect("Delete I/O SQ beyond the queues granted: Invalid Queue Identifier", admin_cmd(&cmd),
         NVME_SC_QID_INVALID);
  queue_cmd(&cmd, NVME_ADMIN_DELETE_CQ, 1, 0);
  expect("Delete I/O CQ 1 while SQ 1 uses it: Invalid Queue Deletion", admin_cmd(&cmd),
         NVME_SC_QUEUE_DELETION);
}

static void namespace_ids(void) {
  struct nvme_cmd cmd;
  read_cmd(&cmd, 2, 0, 1, 0);
  /* NSID 2 within NN is a valid but inactive NSID (Invalid Field in Command); beyond NN it is not
   * a valid NSID at all (Invalid Namespace or Format). */
  if (namespaces >= 2) {
    expect("read of NSID 2 (inactive): Invalid Field in Command", io_cmd(&cmd),
           NVME_SC_INVALID_FIELD);
  } else {
    expect("read of NSID 2 (beyond NN): Invalid Namespace or Format", io_cmd(&cmd),
           NVME_SC_INVALID_NS);
  }
  read_cmd(&cmd, 0, 0, 1, 0);
  expect("read of NSID 0: Invalid Namespace or Format", io_cmd(&cmd), NVME_SC_INVALID_NS);
}

static void still_working(void) {
  struct nvme_cmd cmd;
  read_cmd(&cmd, NSID, 0, 64, 0);
  expect("a good 64-block read on queue 1 afterwards", io_cmd(&cmd), NVME_SC_SUCCESS);
  u32 status = nvme_identify(&ctrl, NVME_CNS_CONTROLLER, 0, qmem[0].data, CMD_MS);
  expect("a good Identify on the admin queue afterwards", status, NVME_SC_SUCCESS);
}

void malformed_commands(void) {
  say("check=errors: malformed commands\n");
  opcodes();
  lba_range();
  prp_offsets();
  queue_ids();
  namespace_ids();
  still_working();
}
