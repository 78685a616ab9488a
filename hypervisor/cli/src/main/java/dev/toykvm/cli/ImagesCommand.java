package dev.toykvm.cli;

import dev.toykvm.vmm.BundledImages;
import dev.toykvm.vmm.ExitCodes;
import dev.toykvm.vmm.ImageException;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code toykvm images}: lists the bundled images. */
@Command(
    name = "images",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    exitCodeOnExecutionException = ExitCodes.HYPERVISOR,
    description = {
      "Lists the images bundled with toykvm (module test-images), with what each one does.",
      "Run one with: toykvm run NAME"
    })
final class ImagesCommand implements Callable<Integer> {
  private final PrintStream out;
  private final PrintStream err;

  @CommandLine.Mixin Verbosity verbosity;

  ImagesCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() {
    List<BundledImages.Entry> images;
    try {
      images = BundledImages.list();
    } catch (ImageException e) {
      err.println("toykvm: " + e.getMessage());
      return ExitCodes.IMAGE;
    }
    if (images.isEmpty()) {
      err.println(
          "toykvm: no bundled images (the test-images module is not on the class path);"
              + " run a ROM file with: toykvm run path/to/image.bin");
      return ExitCodes.IMAGE;
    }
    int width = images.stream().mapToInt(i -> i.name().length()).max().orElse(0);
    for (BundledImages.Entry i : images) {
      out.println(String.format("%-" + width + "s  %s", i.name(), i.description()).stripTrailing());
    }
    out.flush();
    return ExitCodes.SUCCESS;
  }
}
