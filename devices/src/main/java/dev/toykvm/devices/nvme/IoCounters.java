package dev.toykvm.devices.nvme;

/** What the SMART log counts: blocks moved and commands completed by the I/O queues. */
final class IoCounters {
  private long blocksRead;
  private long blocksWritten;
  private long readCommands;
  private long writeCommands;

  void read(long blocks) {
    blocksRead += blocks;
    readCommands++;
  }

  void written(long blocks) {
    blocksWritten += blocks;
    writeCommands++;
  }

  long blocksRead() {
    return blocksRead;
  }

  long blocksWritten() {
    return blocksWritten;
  }

  long readCommands() {
    return readCommands;
  }

  long writeCommands() {
    return writeCommands;
  }
}
