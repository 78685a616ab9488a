/*
 * A minimal ioregionfd test device in C: any program that speaks the wire protocol can be a
 * toykvm device. Commands (RFC v3, 32 bytes, little-endian) arrive on fd 0, responses leave on
 * fd 1, diagnostics go to fd 2.
 *
 * Semantics (the data window of dev.toykvm.devices.TestDevice, offsets 0..7 only): a write of
 * size s at any offset stores its value, zero-extended; a read of size s at any offset returns
 * the low s bytes of the stored value. Offsets past 7 read 0 and ignore writes.
 *
 * Exit status: 0 on EOF between commands, 2 on a malformed or truncated command, 4 on an fd
 * error (the same statuses as the Java IoregionServer).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { MSG_SIZE = 32, CMD_READ = 0, CMD_WRITE = 1, RESP_BIT = 1 << 4 };

static uint64_t get_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static void put_le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Returns bytes read: MSG_SIZE, fewer if EOF came first, or -1 on error. */
static ssize_t read_full(int fd, unsigned char *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, buf + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

static int write_full(int fd, const unsigned char *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, buf + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

int main(void) {
  unsigned char cmd[MSG_SIZE], resp[MSG_SIZE];
  uint64_t stored = 0, accesses = 0;

  for (;;) {
    ssize_t n = read_full(0, cmd, MSG_SIZE);
    if (n == 0) {
      fprintf(stderr, "c-testdev: EOF after %llu accesses\n", (unsigned long long)accesses);
      return 0;
    }
    if (n < 0) {
      fprintf(stderr, "c-testdev: cannot read a command: %s\n", strerror(errno));
      return 4;
    }
    if (n < MSG_SIZE) {
      fprintf(stderr, "c-testdev: cannot read a command: EOF after %zd of 32 bytes\n", n);
      return 2;
    }
    unsigned op = cmd[0], info = cmd[1], exponent = info & 0x0f;
    int padding_ok = 1;
    for (int i = 2; i < 8; i++) padding_ok &= cmd[i] == 0;
    if (op > CMD_WRITE || exponent > 3 || (info & 0xe0) != 0 || !padding_ok ||
        (op == CMD_READ && !(info & RESP_BIT))) {
      fprintf(stderr, "c-testdev: cannot decode a command: cmd 0x%02x, byte 1 0x%02x\n", op,
              info);
      return 2;
    }
    unsigned size = 1u << exponent;
    uint64_t mask = size == 8 ? ~(uint64_t)0 : (((uint64_t)1 << (8 * size)) - 1);
    uint64_t offset = get_le64(cmd + 16), data = 0;
    if (op == CMD_WRITE) {
      if (offset < 8) stored = get_le64(cmd + 24) & mask;
    } else {
      data = offset < 8 ? stored & mask : 0;
    }
    accesses++;
    if (info & RESP_BIT) {
      memset(resp, 0, sizeof resp);
      put_le64(resp, data);
      if (write_full(1, resp, MSG_SIZE) < 0) {
        fprintf(stderr, "c-testdev: cannot write a response: %s\n", strerror(errno));
        return 4;
      }
    }
  }
}
