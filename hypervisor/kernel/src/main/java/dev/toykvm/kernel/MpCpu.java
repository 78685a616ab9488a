package dev.toykvm.kernel;

import dev.toykvm.kvm.VcpuExit;

/** What {@link VcpuMp} does to its vCPU's engine (engine thread). */
final class MpCpu implements VcpuMp.Cpu {
  private static final long RFLAGS_IF = 1L << 9;

  private final VcpuEngine engine;

  MpCpu(VcpuEngine engine) {
    this.engine = engine;
  }

  @Override
  public boolean stopWaiting() {
    return engine.kicked() || engine.closing();
  }

  @Override
  public void consumeKick() {
    engine.consumeKick();
  }

  @Override
  public boolean interruptsEnabled() {
    return (engine.regs().rflags() & RFLAGS_IF) != 0;
  }

  @Override
  public boolean nmiAllowed() {
    return !engine.cpuState().nmiBlocked() && !engine.cpuState().interruptShadow();
  }

  @Override
  public VcpuExit deliverExternal(int vector) {
    return engine.deliverExternal(vector);
  }

  @Override
  public void blockNmis() {
    engine.cpuState().setNmiBlocked(true);
  }

  @Override
  public void enterInitState() {
    engine.setSregs(ResetState.sregs());
    engine.setRegs(ResetState.regs());
    engine.cpuState().setNmiBlocked(false);
  }

  @Override
  public void startAt(int vector) {
    engine.setSregs(ResetState.startupSregs(engine.sregs(), vector));
    engine.setRegs(engine.regs().withRip(0));
  }
}
