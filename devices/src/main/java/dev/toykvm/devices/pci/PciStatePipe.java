package dev.toykvm.devices.pci;

import dev.toykvm.posix.Fds;
import dev.toykvm.posix.PosixException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

/**
 * The device process's end of the PCI state pipe ({@code --pci-state FD}): the VMM writes one
 * {@link PciState#encode()} message each time the guest changes bus master, INTx disable, MSI-X
 * enable or the function mask; {@link #drain()} reads every message written so far and hands the
 * last one to the model (earlier ones are overtaken: the state is sent whole).
 *
 * <p>A message is 8 bytes, less than {@code PIPE_BUF}, so the VMM's writes are atomic and a read of
 * a multiple of 8 bytes never splits one. Anything that is not whole messages of the right form is
 * a broken VMM: {@link #drain()} throws {@link IllegalStateException} and applies nothing of that
 * read. EOF (the VMM closed its end, at teardown) ends the pipe quietly: it is not polled again.
 * Used on the device's one thread.
 */
public final class PciStatePipe {
  /** Messages read at most at once. */
  private static final int BATCH = 64;

  private final int fd;
  private final Consumer<PciState> model;
  private final MemorySegment buffer = Arena.ofAuto().allocate(BATCH * PciState.ENCODED_SIZE);
  private boolean open = true;
  private long messages;
  private PciState current = PciState.RESET;

  /**
   * @param fd the read end, inherited from the VMM; blocking is fine: it is read only when poll
   *     says it is readable
   * @param model told each new state, on the device's thread
   */
  public PciStatePipe(int fd, Consumer<PciState> model) {
    this.fd = fd;
    this.model = model;
  }

  /** The fd to poll, or -1 once it reached EOF. */
  public int fd() {
    return open ? fd : -1;
  }

  /** The state last applied ({@link PciState#RESET} before any message). */
  public PciState current() {
    return current;
  }

  /** Messages read so far. */
  public long messages() {
    return messages;
  }

  /**
   * Reads what is there (call only when the fd is readable: it blocks otherwise) and applies the
   * newest state.
   *
   * @return whether a state was applied (false at EOF)
   * @throws IllegalStateException for a read error or a message that is cut short or does not
   *     decode; nothing of that read is applied
   */
  public boolean drain() {
    long n;
    try {
      n = Fds.read(fd, buffer, buffer.byteSize());
    } catch (PosixException e) {
      throw new IllegalStateException("cannot read the PCI state pipe: " + e.getMessage(), e);
    }
    if (n == 0) {
      open = false;
      return false;
    }
    if (n % PciState.ENCODED_SIZE != 0) {
      throw new IllegalStateException(
          "cannot apply PCI state: "
              + n
              + " bytes on the pipe, not whole "
              + PciState.ENCODED_SIZE
              + "-byte messages (the VMM is broken)");
    }
    PciState last = null;
    for (long at = 0; at < n; at += PciState.ENCODED_SIZE) {
      byte[] message = buffer.asSlice(at, PciState.ENCODED_SIZE).toArray(ValueLayout.JAVA_BYTE);
      try {
        last = PciState.decode(message);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(
            "cannot apply PCI state: " + e.getMessage() + " (the VMM is broken)", e);
      }
    }
    messages += n / PciState.ENCODED_SIZE;
    current = last;
    model.accept(last);
    return true;
  }
}
