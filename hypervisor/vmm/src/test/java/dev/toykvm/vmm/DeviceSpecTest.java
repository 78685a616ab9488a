package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.devices.DeviceKind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DeviceSpecTest {

  @Test
  void parsesTheExamplesOfTheHelp() {
    assertEquals(
        new DeviceSpec(
            DeviceKind.TESTDEV,
            null,
            true,
            0x1234,
            8,
            DeviceSpec.Route.IOREGIONFD,
            false,
            "testdev@pio:0x1234"),
        DeviceSpec.parse("testdev,pio=0x1234,size=8"));
    assertEquals(
        new DeviceSpec(
            DeviceKind.TESTDEV,
            null,
            false,
            0xfeb0_0000L,
            0x1000,
            DeviceSpec.Route.VMM,
            false,
            "testdev@0xfeb00000"),
        DeviceSpec.parse("testdev,mmio=0xfeb00000,size=0x1000,route=vmm"));
    assertEquals(
        new DeviceSpec(
            DeviceKind.EXEC,
            Path.of("/opt/dev"),
            false,
            0xfeb0_0000L,
            4096,
            DeviceSpec.Route.IOREGIONFD,
            true,
            "mine"),
        DeviceSpec.parse("exec=/opt/dev,mmio=0xfeb00000,size=4096,posted=on,name=mine"));
    assertEquals(
        DeviceSpec.Route.IN_PROCESS, DeviceSpec.parse("uart,pio=0x2f8,route=in-process").route());
    assertEquals(8, DeviceSpec.parse("uart,pio=0x2f8").size());
  }

  @Test
  void nvmeTakesItsDiskSizeQueuesRouteAndName() {
    DeviceSpec d = DeviceSpec.parse("nvme,disk=/tmp/d.img");
    assertEquals(DeviceKind.NVME, d.kind());
    assertEquals(new NvmeSpec(Path.of("/tmp/d.img"), java.util.OptionalLong.empty(), 4), d.nvme());
    assertEquals(5, d.nvme().vectors());
    assertEquals(64L << 20, d.nvme().createSize());
    assertEquals(DeviceSpec.Route.IOREGIONFD, d.route());
    assertEquals(true, d.posted(), "doorbells are posted writes");
    assertEquals(0x4000, d.size(), "BAR0");
    assertEquals("nvme@d.img", d.name());
    assertEquals(true, d.pci());
    assertEquals(false, d.covers(false, 0), "a BAR moves: the spec covers nothing");

    DeviceSpec e =
        DeviceSpec.parse("nvme,disk=boot.img,size=0x100000,queues=16,route=vmm,name=boot");
    assertEquals(
        new NvmeSpec(Path.of("boot.img"), java.util.OptionalLong.of(0x100000), 16), e.nvme());
    assertEquals(DeviceSpec.Route.VMM, e.route());
    assertEquals(false, e.posted());
    assertEquals("boot", e.name());
    assertEquals(
        DeviceSpec.Route.IN_PROCESS,
        DeviceSpec.parse("nvme,disk=x,route=in-process,queues=1").route());
  }

  @ParameterizedTest
  @CsvSource({
    "4194304, 4194304",
    "0x400000, 4194304",
    "4M, 4194304",
    "4MiB, 4194304",
    "4mb, 4194304",
    "512k, 524288",
    "1G, 1073741824",
    "512, 512"
  })
  void nvmeSizeTakesTheSuffixesOfMemory(String size, long bytes) {
    assertEquals(
        java.util.OptionalLong.of(bytes),
        DeviceSpec.parse("nvme,disk=d.img,size=" + size).nvme().size());
  }

  @Test
  void interruptLinesAndInput() {
    DeviceSpec d = DeviceSpec.parse("testdev,pio=0x1234,size=0x60,irq=5+10,edge-irq=24");
    assertEquals(java.util.List.of(5, 10), d.irqs());
    assertEquals(java.util.List.of(24), d.edgeIrqs());
    assertEquals(false, d.stdin());
    assertEquals(true, DeviceSpec.parse("uart,pio=0x2f8,input=stdin").stdin());
    assertEquals(java.util.List.of(), DeviceSpec.parse("testdev,pio=0x1234").irqs());
  }

  @Test
  void msiRoutesOfEdgeLines() {
    DeviceSpec d =
        DeviceSpec.parse(
            "testdev,mmio=0xfeb00000,edge-irq=24+25,msi=24:0xfee01000:0x61+25:4276092928:98");
    assertEquals(
        java.util.List.of(new MsiRoute(24, 0xfee01000L, 0x61), new MsiRoute(25, 0xfee00000L, 98)),
        d.msis());
    assertEquals(java.util.List.of(), DeviceSpec.parse("testdev,pio=0x1234").msis());
  }

  @ParameterizedTest
  @CsvSource({
    "'uart,pio=0x3f8', 4",
    "'uart,pio=0x2f8', 3",
    "'uart,pio=0x3e8', 4",
    "'uart,pio=0x2e8', 3",
    "'uart,pio=0x3f8,irq=7', 7",
    "'uart,pio=0x3f8,route=vmm', 4",
  })
  void aUartAtAComPortHasItsIrq(String spec, int irq) {
    assertEquals(java.util.List.of(irq), DeviceSpec.parse(spec).irqs());
  }

  @Test
  void aUartElsewhereOrInTheVmmHasNoLineUnlessGiven() {
    assertEquals(java.util.List.of(), DeviceSpec.parse("uart,pio=0x3f8,irq=none").irqs());
    assertEquals(java.util.List.of(), DeviceSpec.parse("uart,pio=0x500").irqs());
    assertEquals(java.util.List.of(), DeviceSpec.parse("uart,mmio=0xfeb00000").irqs());
    assertEquals(java.util.List.of(), DeviceSpec.parse("uart,pio=0x3f8,route=in-process").irqs());
  }

  @Test
  void theDefaultCom1HasIrq4AndStdinOnlyWhenThePropertySaysSo() {
    DeviceSpec com1 =
        new MachineConfig(
                MachineLayout.DEFAULT_MEMORY,
                false,
                java.util.Optional.empty(),
                java.util.List.of(),
                DeviceSpec.Route.IOREGIONFD)
            .allDevices()
            .getFirst();
    assertEquals(java.util.List.of(4), com1.irqs());
    assertEquals(false, com1.stdin(), "a test's stdin is not a user's");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''|empty",
        "virtio,pio=1|unknown device 'virtio'",
        "nvme|nvme needs disk=FILE",
        "nvme,disk=|nvme needs disk=FILE",
        "nvme,disk=d.img,pio=0x1000|pio= is not for nvme: it is a PCI function",
        "nvme,disk=d.img,mmio=0xfeb00000|mmio= is not for nvme",
        "nvme,disk=d.img,size=1000|size=1000 is not a positive multiple of 512",
        "nvme,disk=d.img,size=0|size=0 is not a positive multiple of 512",
        "nvme,disk=d.img,size=big|size=big is not a size (bytes, 0x hex, or 512k, 4M, 64MiB, 1G)",
        "nvme,disk=d.img,size=4T|size=4T is not a size",
        "nvme,disk=d.img,size=-4M|size=-4M is not a size",
        "nvme,disk=d.img,size=0x|size=0x is not a number",
        "nvme,disk=d.img,size=99999999999G|size=99999999999G is too large",
        "nvme,disk=d.img,size=1000b|size=1000b is not a positive multiple of 512",
        "nvme,disk=d.img,queues=0|queues=0 is not 1-16",
        "nvme,disk=d.img,queues=17|queues=17 is not 1-16",
        "nvme,disk=d.img,queues=four|queues=four is not 1-16",
        "nvme,disk=d.img,irq=5|unknown key 'irq' for nvme",
        "nvme,disk=d.img,posted=on|unknown key 'posted' for nvme",
        "nvme,disk=d.img,route=fast|route=fast is not one of ioregionfd, vmm, in-process",
        "nvme,disk=a,disk=b|'disk' is given twice",
        "nvme,disk=d.img,name=|name= needs a name",
        "testdev|give exactly one of pio=PORT or mmio=ADDRESS",
        "testdev,pio=1,mmio=2|give exactly one of pio=PORT or mmio=ADDRESS",
        "testdev,pio=0x1234,pio=5|'pio' is given twice",
        "testdev,pio=zz|pio=zz is not a number",
        "testdev,pio=0xfffe,size=8|do not fit the 16-bit port space",
        "testdev,pio=1,size=0|size must be at least 1",
        "testdev,pio=1,colour=red|unknown key 'colour'",
        "testdev,pio=1,route=fast|route=fast is not one of ioregionfd, vmm, in-process",
        "testdev,pio=1,posted=maybe|posted=maybe is not on or off",
        "testdev,pio=1,route=vmm,posted=on|posted=on needs route=ioregionfd",
        "exec=,pio=1,size=8|exec= needs the path of a program",
        "exec=/bin/x,pio=1|an exec= device needs size=BYTES",
        "exec=/bin/x,pio=1,size=8,route=in-process|route=in-process is impossible",
        "testdev,pio|'pio' is not key=value",
        "testdev,mmio=0xffffffffffffff00,size=0x1000|address 0xffffffffffffff00 is above the 36-bit",
        "testdev,pio=-1|pio=-1 is negative",
        "testdev,pio=0x10000|port 0x10000 is outside the 16-bit port space",
        "testdev,pio=0x10,size=0x7fffffffffffffff|ports 0x10..0x800000000000000e do not fit",
        "testdev,mmio=0x1000000000|address 0x1000000000 is above the 36-bit guest-physical space",
        "testdev,mmio=0xfeb00000,size=0x7fffffffffffffff|passes the 36-bit guest-physical limit",
        "testdev,mmio=0xfeb00000,size=99999999999999999999|size=99999999999999999999 is too large",
        "testdev,pio=1,name=|name= needs a name",
        "testdev,pio=1,irq=x|irq=x: 'x' is not a GSI",
        "testdev,pio=1,irq=4096|'4096' is not a GSI (0..4095",
        "testdev,pio=1,irq=5+|'' is not a GSI",
        "testdev,pio=1,irq=5+5|names GSI 5 twice",
        "testdev,pio=1,edge-irq=-3|'-3' is not a GSI",
        "testdev,pio=1,input=stdin|input= is only for uart",
        "uart,pio=1,input=keyboard|input=keyboard is not stdin or none",
        "exec=/bin/x,pio=1,size=8,irq=5|an exec= device gets no irqfds or input",
        "testdev,pio=1,route=in-process,irq=5|route=in-process has no irqfds or input",
        "uart,pio=0x3f8,route=in-process,input=stdin|route=in-process has no irqfds or input",
        "testdev,pio=1,edge-irq=24,msi=24|'24' is not GSI:ADDRESS:DATA",
        "testdev,pio=1,edge-irq=24,msi=24:0xfee00000:zz|'zz' is not a number",
        "testdev,pio=1,edge-irq=5,msi=5:0xfee00000:0x61|GSI 5 is not in 24..4095",
        "testdev,pio=1,edge-irq=24,msi=24:0xfec00000:0x61|not in the MSI window",
        "testdev,pio=1,edge-irq=24,msi=24:0xfee00000:0x100000000|out of range",
        "testdev,pio=1,msi=24:0xfee00000:0x61|GSI 24 is not one of the device's edge lines",
        "testdev,pio=1,edge-irq=24,msi=24:0xfee00000:1+24:0xfee00000:2|GSI 24 is routed twice"
      })
  void rejectsBadSpecsWithTheReason(String spec, String why) {
    DeviceSpec.SpecException e =
        assertThrows(DeviceSpec.SpecException.class, () -> DeviceSpec.parse(spec));
    assertEquals(true, e.getMessage().contains(why), e.getMessage());
    assertEquals(true, e.getMessage().startsWith("bad --device '"), e.getMessage());
  }
}
