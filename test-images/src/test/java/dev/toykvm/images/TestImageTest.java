package dev.toykvm.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class TestImageTest {

  static List<String> names() {
    return TestImage.names();
  }

  @Test
  void listsTheBundledImages() {
    assertEquals(
        List.of(
            "hello",
            "triple-fault",
            "real-mode-hello",
            "pio-testdev",
            "mmio-testdev",
            "bench",
            "pit-tick"),
        TestImage.names());
  }

  @ParameterizedTest
  @MethodSource("names")
  void everyBundledImageLoadsAndMatchesItsManifest(String name) {
    TestImage image = TestImage.load(name);
    Manifest manifest = image.manifest();

    assertEquals(name, image.name());
    assertEquals(ImageFormat.ROM64K, manifest.format());
    assertEquals(65536, image.bytes().length);
    assertEquals(Optional.of(image.sha256()), manifest.sha256());
    assertEquals(0xFFFF_0000L, manifest.load());
    assertEquals(0xF_0000L, manifest.alias());
    assertEquals(0xFFFF_FFF0L, manifest.entry());
    assertEquals(Optional.of("guest-firmware/src/" + name + ".s"), manifest.source());
    assertTrue(manifest.expectSerial().isPresent(), "expect.serial");
    assertTrue(manifest.expectExit().isPresent(), "expect.exit");
  }

  @ParameterizedTest
  @MethodSource("names")
  void resetVectorIsAFarJumpIntoTheAliasBelow1MiB(String name) {
    byte[] rom = TestImage.load(name).bytes();
    int at = 0xFFF0;
    assertEquals(0xEA, rom[at] & 0xFF, "jmp ptr16:16 opcode at 0xFFF0");
    int segment = (rom[at + 3] & 0xFF) | (rom[at + 4] & 0xFF) << 8;
    assertEquals(0xF000, segment, "target segment");
  }

  @Test
  void knowsWhatEachImageShouldDo() {
    Manifest hello = TestImage.load("hello").manifest();
    assertEquals(Optional.of("Hello from long mode\n"), hello.expectSerial());
    assertEquals(Optional.of(new ExpectedExit.Status(0)), hello.expectExit());

    Manifest realMode = TestImage.load("real-mode-hello").manifest();
    assertEquals(Optional.of("Hello from real mode\n"), realMode.expectSerial());
    assertEquals(Optional.of(new ExpectedExit.Status(0)), realMode.expectExit());

    Manifest tripleFault = TestImage.load("triple-fault").manifest();
    assertEquals(Optional.of("about to triple fault\n"), tripleFault.expectSerial());
    assertEquals(Optional.of(new ExpectedExit.Shutdown()), tripleFault.expectExit());
  }

  @ParameterizedTest
  @ValueSource(strings = {"pio-testdev", "mmio-testdev"})
  void selfCheckingImagesExpectEveryCheckToPass(String name) {
    Manifest m = TestImage.load(name).manifest();
    String serial = m.expectSerial().orElseThrow();
    assertTrue(serial.endsWith("\nALL PASS\n"), serial);
    List<String> checks = serial.lines().toList().subList(0, (int) serial.lines().count() - 1);
    assertTrue(checks.size() >= 6, "at least 6 checks: " + checks);
    for (String line : checks) {
      assertTrue(line.startsWith("PASS: "), line);
    }
    assertEquals(checks.size(), Set.copyOf(checks).size(), "each check has its own line");
    assertEquals(Optional.of(new ExpectedExit.Status(0)), m.expectExit());
    assertTrue(m.description().contains("needs --device testdev,"), m.description());
  }

  /**
   * The bench image's manifest describes a run with the parameter block that 'toykvm bench' writes
   * (as the testdev images' manifests describe a run with the device attached); booted without one
   * it prints the bad-parameter line and exits 2 instead.
   */
  @Test
  void benchExpectsTheHarnessRun() {
    Manifest m = TestImage.load("bench").manifest();
    assertEquals(Optional.of("bench: done\n"), m.expectSerial());
    assertEquals(Optional.of(new ExpectedExit.Status(0)), m.expectExit());
    assertEquals(
        "benchmark guest: needs a parameter block at 0x9000 written by 'toykvm bench'",
        m.description());
  }

  @Test
  void unknownNameListsTheKnownImages() {
    ImageException e = assertThrows(ImageException.class, () -> TestImage.load("nope"));
    assertEquals(
        "cannot load test image nope: no such image; known images: hello, triple-fault,"
            + " real-mode-hello, pio-testdev, mmio-testdev, bench, pit-tick",
        e.getMessage());
  }

  @Test
  void bytesAreDefensiveCopies() {
    byte[] original = new byte[65536];
    TestImage image = new TestImage("x", original, Manifest.defaults(ImageFormat.ROM64K, "x"));
    original[0] = 1;
    assertEquals(0, image.bytes()[0]);
    image.bytes()[1] = 1;
    assertEquals(0, image.bytes()[1]);
    assertNotSame(image.bytes(), image.bytes());
    assertArrayEquals(new byte[65536], image.bytes());
  }
}
