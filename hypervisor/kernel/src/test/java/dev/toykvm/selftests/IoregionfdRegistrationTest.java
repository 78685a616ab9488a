package dev.toykvm.selftests;

import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_DATAMATCH;
import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_POSTED_WRITES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIoeventfd;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** The errors of KVM_SET_IOREGIONFD and KVM_IOEVENTFD (RFC v3), and ioeventfd delivery. */
@Timeout(30)
class IoregionfdRegistrationTest {
  private Kvm kvm;
  private VmFd vm;
  private Pipe pipe;
  private int eventfd;

  @BeforeEach
  void open() {
    kvm = Kvm.open();
    vm = kvm.createVm();
    pipe = Fds.pipe2();
    eventfd = Eventfd.create();
  }

  @AfterEach
  void close() {
    vm.close();
    kvm.close();
    pipe.close();
    Fds.close(eventfd);
  }

  private KvmIoregion region(long start, long size, int flags) {
    return new KvmIoregion(start, size, 0, pipe.readFd(), pipe.writeFd(), flags);
  }

  private static void assertErrno(Errno errno, Executable call) {
    KvmException e = assertThrows(KvmException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
  }

  @Test
  void capabilityIsAdvertised() {
    assertEquals(1, kvm.checkExtension(KvmConstants.KVM_CAP_IOREGIONFD));
    assertEquals(1, vm.checkExtension(KvmConstants.KVM_CAP_IOEVENTFD));
  }

  @Test
  void anIoeventfdMustBeAnEventfd() {
    assertErrno(
        Errno.EINVAL, () -> vm.ioeventfd(new KvmIoeventfd(0, 0x3000, 4, pipe.writeFd(), 0)));
    vm.ioeventfd(new KvmIoeventfd(0, 0x3000, 4, eventfd, 0));
  }

  @Test
  void aZeroSizeRegionCollidesAsEightBytes() {
    // RFC v3 counts a posted-writes region of size 0 (and an ioeventfd of length 0) as 8 bytes
    // when it checks for collisions.
    vm.setIoregion(region(0x2000, 0, KVM_IOREGION_POSTED_WRITES));
    assertErrno(Errno.EEXIST, () -> vm.setIoregion(region(0x2007, 1, 0)));
    assertErrno(Errno.EEXIST, () -> vm.setIoregion(region(0x2000, 0, KVM_IOREGION_POSTED_WRITES)));
    assertErrno(Errno.EEXIST, () -> vm.ioeventfd(new KvmIoeventfd(0, 0x2004, 4, eventfd, 0)));
    vm.setIoregion(region(0x2008, 8, 0));
    vm.ioeventfd(new KvmIoeventfd(0, 0x1ff8, 0, eventfd, 0)); // [0x1ff8, +8): just before
    assertErrno(Errno.EEXIST, () -> vm.setIoregion(region(0x1ffc, 0, KVM_IOREGION_POSTED_WRITES)));
  }

  @Test
  void aRangeEndingPastTwoToTheSixtyThirdIsEinval() {
    long top = 1L << 63;
    assertErrno(Errno.EINVAL, () -> vm.setIoregion(region(top - 0x1000, 0x2000, 0)));
    assertErrno(Errno.EINVAL, () -> vm.setIoregion(region(top, 0x1000, 0)));
    assertErrno(Errno.EINVAL, () -> vm.ioeventfd(new KvmIoeventfd(0, top, 4, eventfd, 0)));
    vm.setIoregion(region(top - 0x1000, 0x1000, 0)); // ends exactly at 2^63: fine
  }

  @Test
  void overlappingRegionsAreEexistFromEitherSide() {
    vm.setIoregion(region(0x1000, 0x100, 0));
    assertErrno(Errno.EEXIST, () -> vm.setIoregion(region(0x10f0, 0x100, 0)));
    assertErrno(Errno.EEXIST, () -> vm.setIoregion(region(0x0f80, 0x100, 0)));
    assertErrno(Errno.EEXIST, () -> vm.setIoregion(region(0x1010, 0x10, 0)));
    // the same range on the other bus is fine, and so is touching
    vm.setIoregion(region(0x1000, 0x100, KVM_IOREGION_PIO));
    vm.setIoregion(region(0x1100, 0x100, 0));
  }

  @Test
  void regionsAndIoeventfdsExcludeEachOtherBothWays() {
    vm.setIoregion(region(0x2000, 0x10, 0));
    assertErrno(Errno.EEXIST, () -> vm.ioeventfd(new KvmIoeventfd(0, 0x2008, 4, eventfd, 0)));
    vm.ioeventfd(new KvmIoeventfd(0, 0x3000, 4, eventfd, 0));
    assertErrno(Errno.EEXIST, () -> vm.setIoregion(region(0x2ff0, 0x20, 0)));
    // PIO and MMIO are separate buses
    vm.setIoregion(region(0x3000, 0x10, KVM_IOREGION_PIO));
  }

  @Test
  void deassignNeedsAnExactMatch() {
    KvmIoregion r = region(0x1000, 0x100, 0);
    vm.setIoregion(r);
    assertErrno(Errno.ENOENT, () -> vm.setIoregion(region(0x1000, 0x80, 0).deassign()));
    assertErrno(
        Errno.ENOENT, () -> vm.setIoregion(region(0x1000, 0x100, KVM_IOREGION_PIO).deassign()));
    vm.setIoregion(r.deassign());
    assertErrno(Errno.ENOENT, () -> vm.setIoregion(r.deassign()));
    vm.setIoregion(r);
  }

  @Test
  void badOrClosedFdsAreEbadf() {
    assertErrno(
        Errno.EBADF, () -> vm.setIoregion(new KvmIoregion(0x1000, 8, 0, -1, pipe.writeFd(), 0)));
    Pipe closed = Fds.pipe2();
    closed.close();
    assertErrno(
        Errno.EBADF,
        () -> vm.setIoregion(new KvmIoregion(0x1000, 8, 0, pipe.readFd(), closed.writeFd(), 0)));
    assertErrno(
        Errno.EBADF,
        () -> vm.setIoregion(new KvmIoregion(0x1000, 8, 0, closed.readFd(), pipe.writeFd(), 0)));
    assertErrno(Errno.EBADF, () -> vm.ioeventfd(new KvmIoeventfd(0, 0x1000, 4, 12345, 0)));
  }

  @Test
  void invalidArgumentsAreEinval() {
    assertErrno(Errno.EINVAL, () -> vm.setIoregion(region(0x1000, 8, 1 << 5)));
    assertErrno(Errno.EINVAL, () -> vm.setIoregion(region(0x1000, 0, 0)));
    assertErrno(Errno.EINVAL, () -> vm.setIoregion(region(-0x10L, 0x20, 0)));
    assertErrno(Errno.EINVAL, () -> vm.setIoregion(region(0xfff8, 0x10, KVM_IOREGION_PIO)));
    assertErrno(Errno.EINVAL, () -> vm.ioeventfd(new KvmIoeventfd(0, 0x1000, 3, eventfd, 0)));
    assertErrno(
        Errno.EINVAL,
        () -> vm.ioeventfd(new KvmIoeventfd(0, 0x60, 0, eventfd, KVM_IOEVENTFD_FLAG_PIO)));
    assertErrno(Errno.EINVAL, () -> vm.ioeventfd(new KvmIoeventfd(0, 0x60, 1, eventfd, 1 << 7)));
    // a zero-size region is allowed with posted writes
    vm.setIoregion(region(0x5000, 0, KVM_IOREGION_POSTED_WRITES));
  }

  @Test
  void ioeventfdSignalsWithoutAnExitAndRespectsDatamatch() throws Exception {
    vm.ioeventfd(new KvmIoeventfd(0, 0x1000_0000L, 4, eventfd, 0));
    vm.ioeventfd(
        new KvmIoeventfd(
            7, 0x60, 1, eventfd, KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH));
    assertErrno(
        Errno.EEXIST,
        () ->
            vm.ioeventfd(
                new KvmIoeventfd(
                    7, 0x60, 1, eventfd, KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH)));
    try (TestVm t = new TestVm(vm);
        Arena arena = Arena.ofConfined()) {
      t.load(
          0x1000, 0xc7, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00,
          0x00, // mov dword [B], 1
          0xb0, 0x07, // mov al, 7
          0xe6, 0x60, // out 0x60, al       (matches)
          0xb0, 0x08, // mov al, 8
          0xe6, 0x60, // out 0x60, al       (no match: an ordinary exit)
          0xf4);
      t.longMode(0x1000);
      assertEquals(new VcpuExit.IoOut(0x60, 1, 8), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      MemorySegment counter = arena.allocate(8);
      Fds.readFully(eventfd, counter, 8);
      assertEquals(2, counter.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0));
    }
    vm.ioeventfd(new KvmIoeventfd(0, 0x1000_0000L, 4, eventfd, 0).deassign());
    assertErrno(
        Errno.ENOENT,
        () -> vm.ioeventfd(new KvmIoeventfd(0, 0x1000_0000L, 4, eventfd, 0).deassign()));
  }
}
