package dev.toykvm.bench;

import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The interrupt comes from a device process ({@link IrqDeviceMain}: the test device in its own JVM,
 * pinned to the writer's CPU) writing its irqfd; the trigger thread asks for each interrupt with
 * one byte on the device's pipe and reads back the time the device took right before its eventfd
 * write.
 */
final class DeviceProcessSource implements IrqSource {
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final int writerCpu;
  private final Irqfd irqfd;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment buf = arena.allocate(8);
  private DeviceProcess process;

  DeviceProcessSource(boolean level, int writerCpu) {
    this.writerCpu = writerCpu;
    try {
      this.irqfd = Irqfd.create(level);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  @Override
  public String label() {
    return irqfd.label("device process");
  }

  @Override
  public boolean level() {
    return irqfd.level();
  }

  @Override
  public void attach(VmFd vm) {
    irqfd.register(vm);
    List<String> argv = new ArrayList<>();
    argv.add(ProcessHandle.current().info().command().orElse("java"));
    argv.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx64m"));
    argv.addAll(List.of("-cp", System.getProperty("java.class.path")));
    argv.add(IrqDeviceMain.class.getName());
    argv.add(irqfd.level() ? "level" : "edge");
    process =
        irqfd.level()
            ? DeviceProcess.start(argv, line -> {}, irqfd.fd(), irqfd.resampleFd())
            : DeviceProcess.start(argv, line -> {}, irqfd.fd());
    readStamp(30_000); // ready
    Affinity.pinProcess(process.pid(), Affinity.cpu(writerCpu));
  }

  @Override
  public long signal() {
    buf.set(ValueLayout.JAVA_BYTE, 0, (byte) 'i');
    Fds.writeFully(process.commandFd(), buf, 1);
    return readStamp(5000);
  }

  private long readStamp(int timeoutMs) {
    if (!Poll.poll(process.responseFd(), timeoutMs).readable()
        || Fds.readFully(process.responseFd(), buf, 8) != 8) {
      throw new BenchException(
          "cannot measure: the irq device process did not answer: " + process.stderr().strip());
    }
    return buf.get(U64, 0);
  }

  @Override
  public String writerPlace() {
    return "device process pid " + process.pid() + ": " + Affinity.summary(process.pid());
  }

  @Override
  public void close() {
    try {
      if (process != null) {
        process.close();
      }
    } finally {
      irqfd.close();
      arena.close();
    }
  }
}
