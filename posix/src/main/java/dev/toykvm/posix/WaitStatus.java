package dev.toykvm.posix;

/**
 * How a child ended, decoded from {@code waitpid}'s status ({@code WIFEXITED}/{@code WEXITSTATUS},
 * {@code WIFSIGNALED}/{@code WTERMSIG}).
 *
 * @param pid the child
 * @param exitCode the exit status (0-255) if it exited, else -1
 * @param signal the signal that killed it if it was killed, else 0
 */
public record WaitStatus(int pid, int exitCode, int signal) {

  /** Decodes a raw {@code wait} status word. */
  public static WaitStatus decode(int pid, int status) {
    int low = status & 0x7f;
    if (low == 0) {
      return new WaitStatus(pid, (status >>> 8) & 0xff, 0);
    }
    return new WaitStatus(pid, -1, low);
  }

  /** Whether the child called {@code exit} (as opposed to being killed by a signal). */
  public boolean exited() {
    return signal == 0;
  }

  @Override
  public String toString() {
    return exited()
        ? "pid " + pid + " exited with status " + exitCode
        : "pid " + pid + " killed by signal " + signal;
  }
}
