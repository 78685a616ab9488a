package dev.toykvm.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The committed images must be exactly what guest-firmware builds from its sources now. The reactor
 * builds guest-firmware first; surefire passes both directories in.
 */
class StaleImagesTest {

  private static final String FIX = "run make -C guest-firmware install";

  private static Path dir(String property) {
    String value = System.getProperty(property);
    if (value == null) {
      fail("system property " + property + " is not set: run the tests through Maven");
    }
    return Path.of(value);
  }

  @Test
  void committedImagesMatchTheirSources() throws IOException {
    Path built = dir("toykvm.firmware.images");
    Path committed = dir("toykvm.committed.images");
    assertTrue(
        Files.isRegularFile(built.resolve("index")),
        "no freshly built images in " + built + ": build guest-firmware first (mvn -am)");

    List<String> builtNames = Files.readAllLines(built.resolve("index"));
    assertEquals(builtNames, TestImage.names(), "the committed image list is stale: " + FIX);
    for (String name : builtNames) {
      for (String file : List.of(name + ".bin", name + ".manifest")) {
        byte[] fresh = Files.readAllBytes(built.resolve(file));
        Path ours = committed.resolve(file);
        if (!Files.exists(ours) || !Arrays.equals(fresh, Files.readAllBytes(ours))) {
          fail("image " + name + " is stale: " + FIX + " (" + file + " differs)");
        }
      }
      assertEquals(
          TestImage.sha256(Files.readAllBytes(built.resolve(name + ".bin"))),
          TestImage.load(name).sha256(),
          "image " + name + " is stale: " + FIX);
    }
  }

  @Test
  void committedKernelsMatchTheirSources() throws IOException {
    Path built = dir("toykvm.firmware.kernels");
    Path committed = dir("toykvm.committed.kernels");
    for (String name : TestKernels.NAMES) {
      Path fresh = built.resolve(TestKernels.fileName(name));
      assertTrue(Files.isRegularFile(fresh), "kernel " + name + " was not built in " + built);
      Path ours = committed.resolve(TestKernels.fileName(name));
      if (!Files.exists(ours)
          || !Arrays.equals(Files.readAllBytes(fresh), Files.readAllBytes(ours))) {
        fail("kernel " + name + " is stale: " + FIX);
      }
      assertTrue(
          Arrays.equals(Files.readAllBytes(fresh), TestKernels.load(name)),
          "kernel " + name + " on the class path is stale: " + FIX);
    }
  }

  @Test
  void committedDisksMatchTheirSources() throws IOException {
    Path built = dir("toykvm.firmware.disks");
    Path committed = dir("toykvm.committed.disks");
    for (String name : TestDisks.NAMES) {
      Path fresh = built.resolve(TestDisks.fileName(name));
      assertTrue(Files.isRegularFile(fresh), "disk " + name + " was not built in " + built);
      Path ours = committed.resolve(TestDisks.fileName(name));
      if (!Files.exists(ours)
          || !Arrays.equals(Files.readAllBytes(fresh), Files.readAllBytes(ours))) {
        fail("disk " + name + " is stale: " + FIX);
      }
      assertTrue(
          Arrays.equals(Files.readAllBytes(fresh), TestDisks.load(name)),
          "disk " + name + " on the class path is stale: " + FIX);
    }
  }

  @Test
  void committedFirmwareMatchesItsSources() throws IOException {
    Path built = dir("toykvm.firmware.firmware");
    Path committed = dir("toykvm.committed.firmware");
    for (String name : TestFirmware.NAMES) {
      Path fresh = built.resolve(name + ".bin");
      assertTrue(Files.isRegularFile(fresh), "firmware " + name + " was not built in " + built);
      Path ours = committed.resolve(name + ".bin");
      if (!Files.exists(ours)
          || !Arrays.equals(Files.readAllBytes(fresh), Files.readAllBytes(ours))) {
        fail("firmware " + name + " is stale: " + FIX);
      }
      assertTrue(
          Arrays.equals(Files.readAllBytes(fresh), TestFirmware.load(name)),
          "firmware " + name + " on the class path is stale: " + FIX);
    }
  }
}
