package dev.toykvm.bench;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Processes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code toykvm bench guest-speed}: the same guest code on bare libunicorn ({@link BareUnicorn}: a
 * {@code uc_emu_start} with no hooks) and on the whole kernel side ({@code VcpuFd.run()} of a VM
 * with the in-kernel irqchip and PIT, as {@code toykvm run} builds it), alternating, several runs
 * each, in one process pinned to one CPU (the vCPU's engine thread inherits the pin).
 *
 * <p>Each run starts a fresh engine (translation included on both sides) and times only the run:
 * {@code uc_emu_start} to its return, {@code run()} to the guest's {@code out} to port 0xf4 (bare
 * Unicorn ignores that {@code out} and stops at the {@code hlt} after it).
 */
final class GuestSpeed {
  private GuestSpeed() {}

  static final long RAM = 8L << 20;
  static final long CODE = 0x1000;
  static final int EXIT_PORT = 0xf4;

  /** The guest programs, each as bytes, the mode it runs in, and how its count is given. */
  enum Workload {
    /**
     * The loop, real mode: {@code l: addl $1,%eax; decl %ecx; jnz l; out %al,$0xf4; hlt}
     * with ECX = iterations.
     */
    TIGHT(
        "tight loop (add/dec/jnz, real mode)",
        BareUnicorn.MODE_16,
        new byte[] {
          0x66,
          (byte) 0x83,
          (byte) 0xc0,
          0x01,
          0x66,
          0x49,
          0x75,
          (byte) 0xf8,
          (byte) 0xe6,
          (byte) 0xf4,
          (byte) 0xf4
        }),
    /**
     * A realistic mix, flat 32-bit: per inner iteration four loads spread over 4 MiB, a call and a
     * return (a push and a pop); per outer iteration (EDI of them) 64 inner ones, a store and an
     * {@code in} from the PIC's mask register (an in-kernel device). Source (GNU as, .code32):
     *
     * <pre>
     * start: mov $0x100000,%esi; xor %ebx,%ebx; xor %edx,%edx
     * outer: mov $64,%ecx
     * inner: mov (%esi,%ebx,4),%eax; add 4096(%esi,%ebx,4),%eax; add 8192(%esi,%ebx,4),%eax
     *        add 12288(%esi,%ebx,4),%eax; call f; add $17,%ebx; and $0xfbfff,%ebx
     *        dec %ecx; jnz inner
     *        mov %edx,(%esi,%ebx,4); in $0x21,%al; dec %edi; jnz outer
     *        out %al,$0xf4; hlt
     * f:     lea 1(%edx,%eax,2),%edx; ror $3,%edx; ret
     * </pre>
     */
    MIX(
        "mix (loads over 4 MiB, calls, a store and a PIC read per 64, 32-bit)",
        BareUnicorn.MODE_32,
        bytes(
            0xbe, 0x00, 0x00, 0x10, 0x00, 0x31, 0xdb, 0x31, 0xd2, 0xb9, 0x40, 0x00, 0x00, 0x00,
            0x8b, 0x04, 0x9e, 0x03, 0x84, 0x9e, 0x00, 0x10, 0x00, 0x00, 0x03, 0x84, 0x9e, 0x00,
            0x20, 0x00, 0x00, 0x03, 0x84, 0x9e, 0x00, 0x30, 0x00, 0x00, 0xe8, 0x17, 0x00, 0x00,
            0x00, 0x83, 0xc3, 0x11, 0x81, 0xe3, 0xff, 0xbf, 0x0f, 0x00, 0x49, 0x75, 0xd7, 0x89,
            0x14, 0x9e, 0xe4, 0x21, 0x4f, 0x75, 0xca, 0xe6, 0xf4, 0xf4, 0x8d, 0x54, 0x42, 0x01,
            0xc1, 0xca, 0x03, 0xc3));

    final String title;
    final int mode;
    final byte[] code;

    Workload(String title, int mode, byte[] code) {
      this.title = title;
      this.mode = mode;
      this.code = code;
    }

    /** The register that holds the count: ECX for the tight loop, EDI for the mix. */
    int countRegister() {
      return this == TIGHT ? BareUnicorn.REG_ECX : BareUnicorn.REG_EDI;
    }
  }

  /**
   * One workload's runs on both sides, in seconds: wall-clock time, and the CPU time of the thread
   * that ran the guest (the bench thread for bare Unicorn, the vCPU's engine thread for the kernel
   * side), which other load on the machine disturbs less.
   */
  record Result(
      Workload workload,
      long count,
      double[] bare,
      double[] kernel,
      double[] bareCpu,
      double[] kernelCpu,
      double[] javaHookCpu,
      String placement) {
    /** Speed of the kernel side relative to bare Unicorn (1.0: as fast), from median CPU times. */
    double ratio() {
      return percentile(bareCpu, 50) / percentile(kernelCpu, 50);
    }

    /** The same from median wall-clock times. */
    double wallRatio() {
      return percentile(bare, 50) / percentile(kernel, 50);
    }
  }

  /** Nearest-rank percentile of {@code values}. */
  static double percentile(double[] values, double p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
  }

  /** Runs {@code workload} {@code runs} times on each side, alternating, pinned to {@code cpu}. */
  static Result measure(
      Workload workload,
      long count,
      int runs,
      int cpu,
      boolean javaBlockHook,
      Consumer<String> progress) {
    Affinity.pinThisThread(Affinity.cpu(cpu));
    double[] bare = new double[runs];
    double[] kernel = new double[runs];
    double[] bareCpu = new double[runs];
    double[] kernelCpu = new double[runs];
    double[] javaHookCpu = new double[javaBlockHook ? runs : 0];
    String placement = "";
    try (Kvm kvm = Kvm.open()) {
      for (int i = 0; i < runs; i++) {
        Times b = runBare(workload, count);
        bare[i] = b.wall();
        bareCpu[i] = b.cpu();
        KernelRun k = runKernel(kvm, workload, count);
        kernel[i] = k.times().wall();
        kernelCpu[i] = k.times().cpu();
        if (javaBlockHook) {
          System.setProperty(BLOCK_GATE_PROPERTY, "false");
          try {
            javaHookCpu[i] = runKernel(kvm, workload, count).times().cpu();
          } finally {
            System.clearProperty(BLOCK_GATE_PROPERTY);
          }
          progress.accept(
              String.format("  with a Java upcall per block: cpu %.3f s", javaHookCpu[i]));
        }
        placement = "bench thread and vCPU engine on cpu " + cpu + " (" + k.engineCpus() + ")";
        progress.accept(
            String.format(
                "guest-speed %s run %d/%d: bare %.3f s (cpu %.3f s), kernel side %.3f s (cpu %.3f s)",
                workload.name().toLowerCase(java.util.Locale.ROOT),
                i + 1,
                runs,
                bare[i],
                bareCpu[i],
                kernel[i],
                kernelCpu[i]));
      }
    }
    return new Result(workload, count, bare, kernel, bareCpu, kernelCpu, javaHookCpu, placement);
  }

  /** Wall-clock and thread CPU seconds of one run. */
  record Times(double wall, double cpu) {}

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private static Times runBare(Workload w, long count) {
    try (Arena arena = Arena.ofConfined();
        BareUnicorn uc = new BareUnicorn(w.mode)) {
      MemorySegment ram = arena.allocate(RAM, 4096);
      ram.asSlice(CODE, w.code.length).copyFrom(MemorySegment.ofArray(w.code));
      uc.mapRam(ram);
      uc.setReg(w.countRegister(), count);
      uc.setReg(BareUnicorn.REG_ESP, 0x8000);
      long c0 = THREADS.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      uc.run(CODE);
      long t1 = System.nanoTime();
      long c1 = THREADS.getCurrentThreadCpuTime();
      return new Times((t1 - t0) / 1e9, (c1 - c0) / 1e9);
    }
  }

  private record KernelRun(Times times, String engineCpus) {}

  private static KernelRun runKernel(Kvm kvm, Workload w, long count) {
    try (Arena arena = Arena.ofShared();
        VmFd vm = kvm.createVm()) {
      MemorySegment ram = arena.allocate(RAM, 4096);
      ram.asSlice(CODE, w.code.length).copyFrom(MemorySegment.ofArray(w.code));
      vm.createIrqchip();
      vm.createPit2();
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, RAM, ram));
      try (VcpuFd vcpu = vm.createVcpu(0)) {
        KvmSregs s = vcpu.getSregs();
        KvmDtable none = new KvmDtable(0, 0);
        if (w.mode == BareUnicorn.MODE_16) {
          s =
              s.withCs(KvmSegment.realMode(0, true))
                  .withDataSegments(KvmSegment.realMode(0, false))
                  .withTables(none, new KvmDtable(0, 0x3ff));
        } else {
          s =
              s.withCs(KvmSegment.flat32(0x8, true))
                  .withDataSegments(KvmSegment.flat32(0x10, false))
                  .withTables(none, none)
                  .withControl(dev.toykvm.kvm.KvmConstants.X86_CR0_PE, 0, 0, 0);
        }
        vcpu.setSregs(s);
        var regs = vcpu.getRegs().withRip(CODE).withRsp(0x8000).withRflags(2);
        regs = w == Workload.TIGHT ? regs.withRcx(count) : regs.withRdi(count);
        vcpu.setRegs(regs);
        String where = Affinity.threadPlace(Processes.getpid(), ENGINE_THREAD);
        long engine = engineThreadId();
        long c0 = THREADS.getThreadCpuTime(engine);
        long t0 = System.nanoTime();
        while (true) {
          VcpuExit exit = vcpu.run();
          if (exit instanceof VcpuExit.IoOut o && o.port() == EXIT_PORT) {
            break;
          }
          if (!(exit instanceof VcpuExit.Intr) && !(exit instanceof VcpuExit.IoOut)) {
            throw new BenchException("the guest-speed guest stopped with " + exit);
          }
        }
        long t1 = System.nanoTime();
        long c1 = THREADS.getThreadCpuTime(engine);
        return new KernelRun(new Times((t1 - t0) / 1e9, (c1 - c0) / 1e9), where);
      }
    }
  }

  private static final String ENGINE_THREAD = "vcpu0-engine";

  /** The kernel's "module parameter" that turns the native block gate off (read per vCPU). */
  static final String BLOCK_GATE_PROPERTY = "toykvm.kernel.blockgate";

  /** The Java thread id of the (one) vCPU engine thread of this process. */
  private static long engineThreadId() {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(ENGINE_THREAD) && t.isAlive()) {
        return t.threadId();
      }
    }
    throw new BenchException("cannot time the kernel side: no thread named " + ENGINE_THREAD);
  }

  /** Renders the results as the table docs/performance.md shows. */
  static String render(List<Result> results) {
    StringBuilder b = new StringBuilder();
    b.append(
        "| workload | count | bare Unicorn CPU median / p99 (s) | kernel side CPU median / p99"
            + " (s) | speed vs bare (CPU) | wall medians bare / kernel (s) | speed vs bare (wall)"
            + " |\n");
    b.append("|---|---|---|---|---|---|---|\n");
    for (Result r : results) {
      b.append(
          String.format(
              java.util.Locale.ROOT,
              "| %s | %,d | %.3f / %.3f | %.3f / %.3f | %.0f%% | %.3f / %.3f | %.0f%% |%n",
              r.workload().title,
              r.count(),
              percentile(r.bareCpu(), 50),
              percentile(r.bareCpu(), 99),
              percentile(r.kernelCpu(), 50),
              percentile(r.kernelCpu(), 99),
              100 * r.ratio(),
              percentile(r.bare(), 50),
              percentile(r.kernel(), 50),
              100 * r.wallRatio()));
    }
    for (Result r : results) {
      if (r.javaHookCpu().length > 0) {
        b.append(
            String.format(
                java.util.Locale.ROOT,
                "%n%s, kernel side with a Java upcall per block (before the gate): CPU median %.3f s,"
                    + " %.0f%% of bare%n",
                r.workload().title,
                percentile(r.javaHookCpu(), 50),
                100 * percentile(r.bareCpu(), 50) / percentile(r.javaHookCpu(), 50)));
      }
    }
    for (Result r : results) {
      b.append(
          String.format(
              "%nwhere (%s): %s%n",
              r.workload().name().toLowerCase(java.util.Locale.ROOT), r.placement()));
    }
    return b.toString();
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }
}
