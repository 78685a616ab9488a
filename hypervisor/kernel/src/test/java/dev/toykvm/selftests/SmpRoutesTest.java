package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmIoeventfd;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Four vCPUs, each on its own thread calling run(), hammer the same ioeventfd, the same ioregion
 * (one device on one pair of pipes) and the same unclaimed port (an exit to the thread in run()) at
 * once: every ioeventfd write is signalled, every ioregion read gets the answer to its own command,
 * every exit reaches its own vCPU's thread.
 */
@Timeout(120)
class SmpRoutesTest {
  private static final int K = 200;
  private static final int VCPUS = 4;
  private static final long REGION = 0xd000_0000L;

  @Test
  void everyRouteStaysCorrectWithFourVcpusOnOneDevice() throws Exception {
    int efd = Eventfd.create();
    try (SmpVm s = new SmpVm(VCPUS, false);
        PipeDevice device = PipeDevice.answering(c -> c.offset() * 3 + 7)) {
      s.vm.ioeventfd(
          KvmIoeventfd.ZERO
              .withAddr(0x700)
              .withLen(4)
              .withFd(efd)
              .withFlags(KvmConstants.KVM_IOEVENTFD_FLAG_PIO));
      s.vm.setIoregion(
          new KvmIoregion(REGION, 0x1000, 0, device.kernelReadFd(), device.kernelWriteFd(), 0));
      s.load(
          0x1000, 0xb9, K & 0xff, K >>> 8, 0, 0, // mov ecx, K
          0x66, 0xba, 0x00, 0x07, //                loop: mov dx, 0x700
          0xef, //                                        out dx, eax      ioeventfd
          0x8b, 0x83, 0x00, 0x00, 0x00, 0xd0, //          mov eax, [ebx + 0xd0000000]  ioregion
          0x39, 0xf0, //                                  cmp eax, esi
          0x74, 0x02, //                                  je +2
          0xff, 0x07, //                                  inc dword [edi]  a wrong answer
          0x66, 0xba, 0x00, 0x08, //                      mov dx, 0x800
          0xee, //                                        out dx, al       exit to run()'s caller
          0x49, //                                        dec ecx
          0x75, 0xe7, //                                  jnz loop
          0xe6, 0x81); //                                 out 0x81, al
      for (int i = 0; i < VCPUS; i++) {
        s.protectedMode(i, 0x1000, 0x8000 + i * 0x1000, new KvmDtable(0, 0), 2);
        VcpuFd v = s.vcpu(i);
        long offset = i * 8L;
        v.setRegs(v.getRegs().withRbx(offset).withRsi(offset * 3 + 7).withRdi(0x600 + i * 4L));
      }
      List<CompletableFuture<Integer>> runs = new ArrayList<>();
      for (VcpuFd v : s.vcpus) {
        runs.add(
            CompletableFuture.supplyAsync(
                () -> exitsUntilDone(v), r -> Thread.ofPlatform().start(r)));
      }
      for (int i = 0; i < VCPUS; i++) {
        assertEquals(K, runs.get(i).get(100, TimeUnit.SECONDS), "exits of vcpu" + i);
        assertEquals(0, s.read32(0x600 + i * 4), "wrong ioregion answers on vcpu" + i);
      }
      assertEquals(VCPUS * K, Eventfd.drain(efd), "ioeventfd signals");
      assertEquals(VCPUS * K, device.received.size(), "ioregion commands");
    } finally {
      Fds.close(efd);
    }
  }

  /** Runs {@code v} to its final {@code out 0x81}; returns how many port 0x800 exits it saw. */
  private static int exitsUntilDone(VcpuFd v) {
    int exits = 0;
    while (true) {
      VcpuExit exit = SmpTest.run(v);
      if (exit instanceof VcpuExit.IoOut out && out.port() == 0x800) {
        exits++;
      } else if (exit instanceof VcpuExit.IoOut out && out.port() == 0x81) {
        return exits;
      } else {
        throw new AssertionError("vcpu" + v.id() + ": unexpected " + exit);
      }
    }
  }
}
