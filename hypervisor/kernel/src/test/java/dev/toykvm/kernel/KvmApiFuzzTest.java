package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIoeventfd;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.KvmMsi;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tag;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Every method of {@link Kvm}, {@link VmFd} and {@link VcpuFd}, called in random order with random
 * and edge arguments (nulls, negative, huge and overflowing values, closed fds, closed VMs and
 * vCPUs, freed and foreign memory, garbage guest code). It passes only if every failure is a {@link
 * KvmException} whose errno is one the method's javadoc documents ({@link #DOCUMENTED}), the kernel
 * side's last resort ({@link KernelBug}) is never reached, no call hangs (a watchdog), and each
 * session, once closed, leaves no engine thread and no fd.
 *
 * <p>{@code shortRun} (a few thousand calls) is part of the normal build. {@code longRun} (over
 * 10^5 calls, a few minutes) is tagged {@code fuzz} and excluded by default; run it with:
 *
 * <pre>mvn -B verify -pl hypervisor/kernel -am -Pfuzz</pre>
 *
 * (or {@code -Dgroups=fuzz}); it prints the number of calls and the errno distribution.
 */
class KvmApiFuzzTest {
  static final int CALLS_PER_SESSION = 80;

  /** The errnos each method documents: anything else fails the test. */
  static final Map<String, Set<Errno>> DOCUMENTED =
      Map.ofEntries(
          Map.entry("Kvm.getApiVersion", EnumSet.of(Errno.EBADF)),
          Map.entry("Kvm.checkExtension", EnumSet.of(Errno.EBADF)),
          Map.entry("Kvm.createVm", EnumSet.of(Errno.EBADF)),
          Map.entry("VmFd.checkExtension", EnumSet.of(Errno.EBADF)),
          Map.entry(
              "VmFd.setUserMemoryRegion",
              EnumSet.of(Errno.EINVAL, Errno.EEXIST, Errno.EFAULT, Errno.EBADF)),
          Map.entry(
              "VmFd.createVcpu",
              EnumSet.of(Errno.EINVAL, Errno.EEXIST, Errno.EBADF, Errno.EMFILE, Errno.ENOMEM)),
          Map.entry(
              "VmFd.setIoregion",
              EnumSet.of(Errno.EINVAL, Errno.EEXIST, Errno.ENOENT, Errno.EBADF, Errno.EFAULT)),
          Map.entry(
              "VmFd.ioeventfd",
              EnumSet.of(Errno.EINVAL, Errno.EEXIST, Errno.ENOENT, Errno.EBADF, Errno.EFAULT)),
          Map.entry("VmFd.createIrqchip", EnumSet.of(Errno.EEXIST, Errno.EINVAL, Errno.EBADF)),
          Map.entry(
              "VmFd.irqfd",
              EnumSet.of(
                  Errno.EINVAL,
                  Errno.EBADF,
                  Errno.EBUSY,
                  Errno.EMFILE,
                  Errno.ENOMEM,
                  Errno.EFAULT)),
          Map.entry("VmFd.signalMsi", EnumSet.of(Errno.EINVAL, Errno.EFAULT, Errno.EBADF)),
          Map.entry("VmFd.setGsiRouting", EnumSet.of(Errno.EINVAL, Errno.EFAULT, Errno.EBADF)),
          Map.entry("VmFd.irqLine", EnumSet.of(Errno.ENXIO, Errno.EINVAL, Errno.EBADF)),
          Map.entry("VcpuFd.run", EnumSet.of(Errno.EBADF, Errno.EBUSY, Errno.EFAULT)),
          Map.entry("VcpuFd.getRegs", EnumSet.of(Errno.EBADF, Errno.EBUSY)),
          Map.entry("VcpuFd.setRegs", EnumSet.of(Errno.EFAULT, Errno.EBUSY, Errno.EBADF)),
          Map.entry("VcpuFd.getSregs", EnumSet.of(Errno.EBADF, Errno.EBUSY)),
          Map.entry(
              "VcpuFd.setSregs", EnumSet.of(Errno.EFAULT, Errno.EINVAL, Errno.EBUSY, Errno.EBADF)),
          Map.entry("VcpuFd.kick", EnumSet.noneOf(Errno.class)),
          Map.entry("VcpuFd.id", EnumSet.noneOf(Errno.class)),
          Map.entry("VcpuFd.close", EnumSet.noneOf(Errno.class)),
          Map.entry("VmFd.close", EnumSet.noneOf(Errno.class)),
          Map.entry("Kvm.close", EnumSet.noneOf(Errno.class)),
          Map.entry("exit.setData", EnumSet.noneOf(Errno.class)),
          Map.entry("test.garbage", EnumSet.noneOf(Errno.class)),
          Map.entry("test.closeArena", EnumSet.noneOf(Errno.class)));

  /** No call may take this long (a run() is kicked after a few milliseconds). */
  static final long HANG_MS = 20_000;

  static final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
  static final List<String> violations = new ArrayList<>();
  static final List<String> hangs = new ArrayList<>();
  static final AtomicLong calls = new AtomicLong();
  static final Map<String, AtomicLong> nanos = new ConcurrentHashMap<>();
  static long bugsBefore;
  static ScheduledExecutorService timer;

  @BeforeContainer
  static void start() {
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("fuzz-timer").unstarted(r));
    bugsBefore = KernelBug.count();
  }

  @AfterContainer
  static void stop() {
    timer.shutdownNow();
  }

  @Property(tries = 60, shrinking = ShrinkingMode.OFF)
  void shortRun(@ForAll("sessions") List<Call> session) {
    fuzz(session, 4);
  }

  @Property(tries = 1700, shrinking = ShrinkingMode.OFF)
  @Tag("fuzz")
  void longRun(@ForAll("sessions") List<Call> session) {
    fuzz(session, 1);
    if (calls.get() % 10_000 < CALLS_PER_SESSION) {
      System.out.printf(
          "fuzz: %d calls so far, outcomes %s%n", calls.get(), new TreeMap<>(outcomes));
    }
  }

  /** One call: which operation, and raw material for its arguments. */
  record Call(int op, long a, long b, long c, int d, long seed) {}

  @Provide
  Arbitrary<List<Call>> sessions() {
    Arbitrary<Long> edgy =
        Arbitraries.oneOf(
            Arbitraries.of(
                0L,
                1L,
                -1L,
                0x1000L,
                0xfffL,
                0x10000L,
                0xffff_f000L,
                0xffff_fff0L,
                1L << 32,
                (1L << 36) - 0x1000,
                1L << 36,
                Long.MAX_VALUE,
                Long.MIN_VALUE,
                Long.MAX_VALUE - 0xfff),
            Arbitraries.longs().between(0, 0x20000),
            Arbitraries.longs());
    Arbitrary<Call> call =
        Combinators.combine(
                Arbitraries.integers().between(0, WEIGHTED.length - 1).withoutEdgeCases(),
                edgy,
                edgy,
                edgy,
                Arbitraries.integers(),
                Arbitraries.longs())
            .as(Call::new);
    return call.list().ofSize(CALLS_PER_SESSION);
  }

  enum Op {
    GET_API_VERSION,
    KVM_CHECK_EXTENSION,
    CREATE_VM,
    KVM_CLOSE,
    VM_CHECK_EXTENSION,
    SET_MEMORY,
    SET_MEMORY_VALID,
    CREATE_VCPU,
    CREATE_VCPU_VALID,
    SET_IOREGION,
    IOEVENTFD,
    VM_CLOSE,
    RUN,
    GET_REGS,
    SET_REGS,
    GET_SREGS,
    SET_SREGS,
    KICK,
    VCPU_CLOSE,
    GARBAGE,
    CLOSE_ARENA,
    SET_DATA,
    ID,
    CREATE_IRQCHIP,
    IRQFD,
    SIGNAL_MSI,
    SET_GSI_ROUTING,
    IRQ_LINE
  }

  /** The operations with their weights: what builds state and runs the guest comes more often. */
  static final Op[] WEIGHTED = weighted();

  private static Op[] weighted() {
    List<Op> ops = new ArrayList<>();
    for (Op op : Op.values()) {
      int weight =
          switch (op) {
            case RUN -> 8;
            case SET_MEMORY, SET_MEMORY_VALID, CREATE_VCPU_VALID, SET_REGS, SET_SREGS, GARBAGE -> 3;
            case SET_IOREGION, IOEVENTFD, SET_DATA, GET_REGS, GET_SREGS, KICK, IRQFD -> 2;
            default -> 1;
          };
      for (int i = 0; i < weight; i++) {
        ops.add(op);
      }
    }
    return ops.toArray(new Op[0]);
  }

  /** Runs one session: a fresh system fd and whatever the calls make of it; then checks leaks. */
  void fuzz(List<Call> session, int remapOneIn) {
    long threadsBefore = Resources.engineThreads();
    List<String> fdsBefore = Resources.fds();
    try (Session s = new Session(remapOneIn)) {
      for (Call c : session) {
        s.call(c);
      }
    }
    synchronized (violations) {
      assertTrue(violations.isEmpty(), () -> "undocumented failures: " + violations);
    }
    assertTrue(hangs.isEmpty(), () -> "calls that hung: " + hangs);
    assertEquals(bugsBefore, KernelBug.count(), "the kernel side's last resort was reached");
    assertEquals(threadsBefore, Resources.engineThreads(), "engine threads left by a session");
    assertEquals(0, Resources.irqfdThreads(), "irqfd threads left by a session");
    List<String> fdsAfter = Resources.fds();
    assertEquals(
        fdsBefore.size(),
        fdsAfter.size(),
        () -> "fds left by a session: before " + fdsBefore + ", after " + fdsAfter);
  }

  /** The objects one session plays with. */
  final class Session implements AutoCloseable {
    final List<Kvm> kvms = new ArrayList<>();
    final List<VmFd> vms = new ArrayList<>();
    final List<VcpuFd> vcpus = new ArrayList<>();
    final List<Arena> arenas = new ArrayList<>();
    final List<MemorySegment> memory = new ArrayList<>();
    final Pipe commands = Fds.pipe2();
    final Pipe responses = Fds.pipe2();
    final int eventfd = Eventfd.create();
    final int[] fds;
    final Set<VmFd> withVcpus = new java.util.HashSet<>();
    final int remapOneIn;
    VcpuExit lastExit;
    Random random;

    /**
     * @param remapOneIn memory changes on a VM that has vCPUs are made once in this many tries (0:
     *     never; 1: always): each costs the vCPUs a remap at their next run (milliseconds since the
     *     gaps are mapped in pieces, see EngineMemoryMap)
     */
    Session(int remapOneIn) {
      this.remapOneIn = remapOneIn;
      kvms.add(Kvm.open());
      Arena shared = Arena.ofShared();
      Arena confined = Arena.ofConfined();
      Arena doomed = Arena.ofShared();
      arenas.addAll(List.of(shared, confined, doomed));
      memory.add(shared.allocate(0x10000, 4096));
      memory.add(confined.allocate(0x10000, 4096));
      memory.add(doomed.allocate(0x10000, 4096));
      memory.add(Arena.ofAuto().allocate(0x8000, 4096));
      memory.add(shared.allocate(0x3000, 4096).asSlice(0x800)); // misaligned
      memory.add(MemorySegment.ofArray(new byte[0x10000])); // heap
      memory.add(MemorySegment.NULL);
      memory.add(null);
      try (Arena gone = Arena.ofShared()) {
        memory.add(gone.allocate(0x10000, 4096)); // freed before use
      }
      // Only fds of this session, and numbers that are never open: a random number could be the
      // test JVM's own stdout.
      fds =
          new int[] {
            commands.writeFd(),
            responses.readFd(),
            eventfd,
            -1,
            Integer.MIN_VALUE,
            Integer.MAX_VALUE,
            1 << 20
          };
    }

    void call(Call c) {
      random = new Random(c.seed());
      Op[] op = {WEIGHTED[c.op()]};
      Runnable body = body(op, c);
      String method = methodOf(op[0]);
      if (body == null) {
        return; // nothing to call it on
      }
      if (!method.startsWith("test.")) {
        calls.incrementAndGet();
      }
      ScheduledFuture<?> watchdog =
          timer.schedule(() -> hung(method, c), HANG_MS, TimeUnit.MILLISECONDS);
      long t0 = System.nanoTime();
      try {
        body.run();
        count(method, "ok");
      } catch (KvmException e) {
        count(method, e.errno().name());
        if (!DOCUMENTED.get(method).contains(e.errno())) {
          violation(method + " " + c + ": undocumented " + e.getMessage());
        }
      } catch (Throwable t) {
        count(method, t.getClass().getSimpleName());
        violation(method + " " + c + ": threw " + t);
      } finally {
        watchdog.cancel(false);
        nanos.computeIfAbsent(method, k -> new AtomicLong()).addAndGet(System.nanoTime() - t0);
      }
    }

    private void hung(String method, Call c) {
      synchronized (hangs) {
        hangs.add(method + " " + c);
      }
      // Unstick the session so that the test can report instead of timing out.
      vcpus.forEach(VcpuFd::kick);
      vms.forEach(VmFd::close);
    }

    private Runnable body(Op[] chosen, Call c) {
      Op op = chosen[0];
      Kvm kvm = pick(kvms);
      VmFd vm = pick(vms);
      VcpuFd vcpu = pick(vcpus);
      // A call on what does not exist yet first makes it.
      Set<Op> onVm =
          EnumSet.of(
              Op.VM_CHECK_EXTENSION,
              Op.SET_MEMORY,
              Op.SET_MEMORY_VALID,
              Op.CREATE_VCPU,
              Op.CREATE_VCPU_VALID,
              Op.SET_IOREGION,
              Op.IOEVENTFD,
              Op.VM_CLOSE,
              Op.CREATE_IRQCHIP,
              Op.IRQFD,
              Op.SIGNAL_MSI,
              Op.SET_GSI_ROUTING,
              Op.IRQ_LINE);
      Set<Op> onVcpu =
          EnumSet.of(
              Op.RUN,
              Op.GET_REGS,
              Op.SET_REGS,
              Op.GET_SREGS,
              Op.SET_SREGS,
              Op.KICK,
              Op.VCPU_CLOSE,
              Op.ID);
      if (vm == null && (onVm.contains(op) || onVcpu.contains(op))) {
        op = Op.CREATE_VM;
      } else if (vcpu == null && onVcpu.contains(op)) {
        op = Op.CREATE_VCPU_VALID;
      }
      if ((op == Op.SET_MEMORY || op == Op.SET_MEMORY_VALID)
          && withVcpus.contains(vm)
          && (remapOneIn == 0 || random.nextInt(remapOneIn) != 0)) {
        return null;
      }
      chosen[0] = op;
      return switch (op) {
        case GET_API_VERSION -> kvm == null ? null : kvm::getApiVersion;
        case KVM_CHECK_EXTENSION -> kvm == null ? null : () -> kvm.checkExtension(c.d());
        case CREATE_VM -> kvm == null ? null : () -> vms.add(kvm.createVm());
        case KVM_CLOSE ->
            kvm == null
                ? null
                : () -> {
                  kvm.close();
                  kvms.add(Kvm.open());
                };
        case VM_CHECK_EXTENSION -> vm == null ? null : () -> vm.checkExtension(c.d());
        case SET_MEMORY -> vm == null ? null : () -> vm.setUserMemoryRegion(region(c));
        case SET_MEMORY_VALID -> vm == null ? null : () -> vm.setUserMemoryRegion(validRegion(c));
        case CREATE_VCPU -> vm == null ? null : () -> addVcpu(vm, vm.createVcpu(c.d()));
        case CREATE_VCPU_VALID ->
            vm == null ? null : () -> addVcpu(vm, vm.createVcpu(Math.floorMod(c.d(), 9)));
        case SET_IOREGION -> vm == null ? null : () -> vm.setIoregion(ioregion(c));
        case IOEVENTFD -> vm == null ? null : () -> vm.ioeventfd(ioeventfd(c));
        case VM_CLOSE -> vm == null ? null : vm::close;
        case RUN -> vcpu == null ? null : () -> run(vcpu);
        case GET_REGS -> vcpu == null ? null : vcpu::getRegs;
        case SET_REGS -> vcpu == null ? null : () -> vcpu.setRegs(regs(c));
        case GET_SREGS -> vcpu == null ? null : vcpu::getSregs;
        case SET_SREGS -> vcpu == null ? null : () -> vcpu.setSregs(sregs(c));
        case KICK -> vcpu == null ? null : vcpu::kick;
        case VCPU_CLOSE -> vcpu == null ? null : vcpu::close;
        case GARBAGE -> () -> garbage(c);
        case CLOSE_ARENA -> () -> closeArena(c);
        case SET_DATA -> lastExit == null ? null : () -> setData(c.a());
        case ID -> vcpu == null ? null : vcpu::id;
        case CREATE_IRQCHIP -> vm == null ? null : vm::createIrqchip;
        case IRQFD -> vm == null ? null : () -> vm.irqfd(irqfd(c));
        case SIGNAL_MSI -> vm == null ? null : () -> vm.signalMsi(msi(c));
        case SET_GSI_ROUTING -> vm == null ? null : () -> vm.setGsiRouting(routing(c));
        case IRQ_LINE -> vm == null ? null : () -> vm.irqLine(gsi(c), c.d() & 1);
      };
    }

    private static String methodOf(Op op) {
      return switch (op) {
        case GET_API_VERSION -> "Kvm.getApiVersion";
        case KVM_CHECK_EXTENSION -> "Kvm.checkExtension";
        case CREATE_VM -> "Kvm.createVm";
        case KVM_CLOSE -> "Kvm.close";
        case VM_CHECK_EXTENSION -> "VmFd.checkExtension";
        case SET_MEMORY, SET_MEMORY_VALID -> "VmFd.setUserMemoryRegion";
        case CREATE_VCPU, CREATE_VCPU_VALID -> "VmFd.createVcpu";
        case SET_IOREGION -> "VmFd.setIoregion";
        case IOEVENTFD -> "VmFd.ioeventfd";
        case VM_CLOSE -> "VmFd.close";
        case RUN -> "VcpuFd.run";
        case GET_REGS -> "VcpuFd.getRegs";
        case SET_REGS -> "VcpuFd.setRegs";
        case GET_SREGS -> "VcpuFd.getSregs";
        case SET_SREGS -> "VcpuFd.setSregs";
        case KICK -> "VcpuFd.kick";
        case VCPU_CLOSE -> "VcpuFd.close";
        case GARBAGE -> "test.garbage";
        case CLOSE_ARENA -> "test.closeArena";
        case SET_DATA -> "exit.setData";
        case ID -> "VcpuFd.id";
        case CREATE_IRQCHIP -> "VmFd.createIrqchip";
        case IRQFD -> "VmFd.irqfd";
        case SIGNAL_MSI -> "VmFd.signalMsi";
        case SET_GSI_ROUTING -> "VmFd.setGsiRouting";
        case IRQ_LINE -> "VmFd.irqLine";
      };
    }

    private void addVcpu(VmFd vm, VcpuFd vcpu) {
      withVcpus.add(vm);
      vcpus.add(vcpu);
    }

    /** run() can spin forever on garbage: a kick a few milliseconds in bounds it. */
    private void run(VcpuFd vcpu) {
      ScheduledFuture<?> kick =
          timer.schedule(vcpu::kick, 1 + random.nextInt(5), TimeUnit.MILLISECONDS);
      try {
        lastExit = vcpu.run();
      } finally {
        kick.cancel(false);
      }
    }

    private void setData(long value) {
      switch (lastExit) {
        case VcpuExit.IoIn in -> in.setData(value);
        case VcpuExit.MmioRead read -> read.setData(value);
        case VcpuExit.IoregionfdFailure f -> f.setData(value);
        default -> {}
      }
    }

    private KvmUserspaceMemoryRegion region(Call c) {
      if (random.nextInt(20) == 0) {
        return null;
      }
      int slot = random.nextBoolean() ? random.nextInt(34) - 1 : c.d();
      int flags = random.nextBoolean() ? random.nextInt(4) : c.d() >>> 3;
      long size = random.nextBoolean() ? 0x1000L * random.nextInt(20) : c.b();
      return new KvmUserspaceMemoryRegion(slot, flags, c.a(), size, pick(memory));
    }

    private KvmUserspaceMemoryRegion validRegion(Call c) {
      MemorySegment mem = memory.get(random.nextInt(4));
      long size = 0x1000L * (1 + random.nextInt((int) (mem.byteSize() / 0x1000)));
      long gpa = random.nextBoolean() ? 0 : 0x1000L * random.nextInt(0x100);
      if (random.nextInt(4) == 0) {
        gpa = 0x1_0000_0000L - size; // under the reset vector
      }
      int flags = random.nextInt(8) == 0 ? KvmConstants.KVM_MEM_READONLY : 0;
      return new KvmUserspaceMemoryRegion(random.nextInt(4), flags, gpa, size, mem);
    }

    private KvmIoregion ioregion(Call c) {
      if (random.nextInt(20) == 0) {
        return null;
      }
      int flags = random.nextInt(4) == 0 ? c.d() : random.nextInt(8);
      long size = random.nextBoolean() ? random.nextInt(0x2000) : c.b();
      return new KvmIoregion(c.a(), size, c.c(), pickFd(), pickFd(), flags);
    }

    private KvmIoeventfd ioeventfd(Call c) {
      if (random.nextInt(20) == 0) {
        return null;
      }
      int flags = random.nextInt(4) == 0 ? c.d() : random.nextInt(8);
      int len = random.nextBoolean() ? new int[] {0, 1, 2, 4, 8}[random.nextInt(5)] : c.d();
      return new KvmIoeventfd(c.c(), c.a(), len, pickFd(), flags);
    }

    private int gsi(Call c) {
      return random.nextInt(4) == 0 ? (int) c.a() : random.nextInt(30);
    }

    private KvmIrqfd irqfd(Call c) {
      if (random.nextInt(20) == 0) {
        return null;
      }
      int flags = random.nextInt(6) == 0 ? c.d() : random.nextInt(4);
      return new KvmIrqfd(pickFd(), gsi(c), flags, pickFd());
    }

    private KvmMsi msi(Call c) {
      if (random.nextInt(20) == 0) {
        return null;
      }
      int flags = random.nextInt(6) == 0 ? c.d() : random.nextInt(2);
      int address = random.nextBoolean() ? 0xfee00000 | random.nextInt(0x100000) : (int) c.a();
      int data = random.nextBoolean() ? random.nextInt(0x10000) : (int) c.b();
      return new KvmMsi(address, (int) c.c(), data, flags, random.nextInt());
    }

    private List<KvmIrqRoutingEntry> routing(Call c) {
      if (random.nextInt(20) == 0) {
        return null;
      }
      List<KvmIrqRoutingEntry> entries = new ArrayList<>();
      for (int i = random.nextInt(6); i > 0; i--) {
        int flags = random.nextInt(8) == 0 ? c.d() : 0;
        entries.add(
            random.nextInt(20) == 0
                ? null
                : random.nextBoolean()
                    ? new KvmIrqRoutingEntry.Irqchip(gsi(c), flags, random.nextInt(4), gsi(c))
                    : new KvmIrqRoutingEntry.Msi(
                        gsi(c), flags, 0xfee00000, 0, random.nextInt(0x100), 0));
      }
      return entries;
    }

    private KvmRegs regs(Call c) {
      if (random.nextInt(10) == 0) {
        return null;
      }
      long[] v = new long[18];
      for (int i = 0; i < v.length; i++) {
        v[i] = random.nextBoolean() ? random.nextLong() : random.nextInt(0x20000);
      }
      v[16] = random.nextBoolean() ? c.a() : random.nextInt(0x10000); // rip
      v[17] = random.nextBoolean() ? c.b() : 2; // rflags
      return KvmRegs.fromArray(v);
    }

    private KvmSregs sregs(Call c) {
      switch (random.nextInt(10)) {
        case 0 -> {
          return null;
        }
        case 1 -> {
          KvmSegment real = KvmSegment.realMode(0, true);
          return new KvmSregs(
              real, null, real, real, real, real, real, real, null, null, 0, 0, 0, 0, 0, 0, 0);
        }
        case 2, 3 -> {
          // A valid state: the reset state, maybe with another real-mode CS.
          KvmSregs reset = ResetState.sregs();
          return random.nextBoolean()
              ? reset
              : reset.withCs(KvmSegment.realMode(random.nextInt(0x10000), true));
        }
        default -> {}
      }
      KvmSegment[] s = new KvmSegment[8];
      for (int i = 0; i < s.length; i++) {
        s[i] =
            switch (random.nextInt(4)) {
              case 0 -> KvmSegment.realMode(random.nextInt(0x10000), i == 0);
              case 1 -> KvmSegment.flat32(8 * random.nextInt(4), i == 0);
              case 2 -> KvmSegment.long64(8 * random.nextInt(4), i == 0);
              default ->
                  new KvmSegment(
                      random.nextBoolean() ? c.a() : random.nextInt(0x100000),
                      random.nextBoolean() ? c.b() : 0xffff,
                      random.nextInt(0x20000) - 0x100,
                      random.nextInt(20) - 2,
                      random.nextBoolean(),
                      random.nextInt(6) - 1,
                      random.nextBoolean(),
                      random.nextBoolean(),
                      random.nextBoolean(),
                      random.nextBoolean(),
                      random.nextBoolean(),
                      random.nextBoolean());
            };
      }
      long[] cr0s = {0, KvmConstants.X86_CR0_PE, KvmConstants.X86_CR0_PE | KvmConstants.X86_CR0_PG};
      long cr0 = random.nextInt(4) == 0 ? c.c() : cr0s[random.nextInt(3)];
      long efer =
          random.nextInt(4) == 0
              ? c.b()
              : (random.nextBoolean() ? KvmConstants.EFER_LME | KvmConstants.EFER_LMA : 0);
      long cr4 = random.nextBoolean() ? KvmConstants.X86_CR4_PAE : random.nextLong();
      KvmDtable gdt = new KvmDtable(random.nextInt(0x10000), random.nextInt(0x20000) - 0x100);
      KvmDtable idt = new KvmDtable(random.nextBoolean() ? c.a() : 0, random.nextInt(0x10000));
      return new KvmSregs(
          s[0],
          s[1],
          s[2],
          s[3],
          s[4],
          s[5],
          s[6],
          s[7],
          gdt,
          idt,
          cr0,
          random.nextLong(),
          random.nextBoolean() ? 0x2000 : c.a(),
          cr4,
          random.nextInt(16),
          efer,
          random.nextLong());
    }

    /**
     * Random bytes over a segment's start, or a program. No 0xff byte: Unicorn 2.0.1 aborts the
     * whole process on {@code ff /3} and {@code ff /5} with a register operand (a native guard for
     * that is another piece of work).
     */
    private void garbage(Call c) {
      MemorySegment mem = memory.get(random.nextInt(4));
      if (!mem.scope().isAlive() || !mem.isAccessibleBy(Thread.currentThread())) {
        return;
      }
      int length = (int) Math.min(mem.byteSize(), 0x800 + random.nextInt(0x2000));
      long start = Math.floorMod(c.a(), mem.byteSize() - length + 1);
      for (int i = 0; i < length; i++) {
        byte b = (byte) random.nextInt(0xff); // 0x00..0xfe
        mem.set(ValueLayout.JAVA_BYTE, start + i, b);
      }
      if (mem.byteSize() >= 0x10000) {
        mem.set(ValueLayout.JAVA_BYTE, 0xfff0, (byte) 0xf4); // hlt at the reset vector's alias
      }
    }

    private void closeArena(Call c) {
      Arena arena = arenas.get(2 + random.nextInt(arenas.size() - 2));
      if (random.nextInt(4) == 0) {
        arena = arenas.get(random.nextInt(2)); // even the shared or confined main memory
      }
      if (arena.scope().isAlive()) {
        arena.close();
      }
    }

    private int pickFd() {
      return fds[random.nextInt(fds.length)];
    }

    /** Mostly the newest (likely still open), sometimes any (likely closed). */
    private <T> T pick(List<T> list) {
      if (list.isEmpty()) {
        return null;
      }
      int i = random.nextInt(4) == 0 ? random.nextInt(list.size()) : list.size() - 1;
      return list.get(i);
    }

    @Override
    public void close() {
      vcpus.forEach(VcpuFd::close);
      vms.forEach(VmFd::close);
      kvms.forEach(Kvm::close);
      for (Arena a : arenas) {
        if (a.scope().isAlive()) {
          a.close();
        }
      }
      commands.close();
      responses.close();
      Fds.close(eventfd);
    }
  }

  private static void count(String method, String outcome) {
    outcomes.computeIfAbsent(method + " " + outcome, k -> new AtomicLong()).incrementAndGet();
  }

  private static void violation(String what) {
    synchronized (violations) {
      if (violations.size() < 20) {
        violations.add(what);
      }
    }
  }

  /** Prints the figures of the run (calls, outcomes by method and errno). */
  @AfterContainer
  static void report() {
    Map<String, Long> byErrno = new TreeMap<>();
    outcomes.forEach((k, v) -> byErrno.merge(k.substring(k.indexOf(' ') + 1), v.get(), Long::sum));
    System.out.printf(
        "KvmApiFuzzTest: %d calls; outcomes %s; by method %s; hangs %d; kernel bugs %d;"
            + " time by method %s%n",
        calls.get(),
        byErrno,
        new TreeMap<>(outcomes),
        hangs.size(),
        KernelBug.count() - bugsBefore,
        new TreeMap<>(nanos));
  }
}
