package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.DeviceProcess;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class DeviceLauncherTest {

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS) // the ready wait itself is 60 s
  void aDeviceThatDiesBeforeServingIsSaidAtOnceWithItsStderr() {
    DeviceSpec spec = DeviceSpec.parse("testdev,pio=0x1234,size=8,name=doomed");
    DeviceProcess process =
        DeviceProcess.start(List.of("sh", "-c", "echo 'no such option' >&2; exit 3"));
    try {
      var started = new DeviceLauncher.Started(process, null, new CountDownLatch(1));
      DeviceException e =
          assertThrows(DeviceException.class, () -> DeviceLauncher.awaitReady(spec, started));
      assertTrue(e.getMessage().startsWith("device doomed ended ("), e.getMessage());
      assertTrue(e.getMessage().contains("no such option"), e.getMessage());
    } finally {
      process.close();
    }
  }
}
