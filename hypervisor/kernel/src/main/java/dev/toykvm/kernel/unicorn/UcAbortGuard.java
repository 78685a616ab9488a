package dev.toykvm.kernel.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The native guard, built with the project into the jar as {@code native/libtoykvm-ucguard.so}:
 * loaded from the class path (copied to a temporary file first when it is inside a jar, and the
 * copy deleted once loaded).
 */
final class UcAbortGuard {
  private UcAbortGuard() {}

  static final String RESOURCE = "/native/libtoykvm-ucguard.so";
  static final String ERROR;
  static final MethodHandle START;

  /** The native block gate hook ({@code ucblock.c}), or null if the library did not load. */
  static final MemorySegment BLOCK_GATE_HOOK;

  /** The gate's {@code UC_HOOK_EDGE_GENERATED} hook ({@code ucblock.c}), or null. */
  static final MemorySegment BLOCK_GATE_TRANSLATED;

  static {
    String error = null;
    MethodHandle start = null;
    MemorySegment gateHook = null;
    MemorySegment translated = null;
    try {
      java.net.URL url = UcEngine.class.getResource(RESOURCE);
      if (url == null) {
        throw new IOException(RESOURCE + " is not on the class path (was the kernel built?)");
      }
      boolean inJar = !"file".equals(url.getProtocol());
      Path library = inJar ? copyOut(url) : Path.of(url.toURI());
      try {
        Linker linker = Linker.nativeLinker();
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        MethodHandle ready =
            linker.downcallHandle(
                lookup.findOrThrow("toykvm_guard_ready"), FunctionDescriptor.of(JAVA_INT));
        start =
            linker.downcallHandle(
                lookup.findOrThrow("toykvm_guarded_emu_start"),
                FunctionDescriptor.of(
                    JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    ADDRESS));
        gateHook = lookup.findOrThrow("toykvm_block_gate_hook");
        translated = lookup.findOrThrow("toykvm_block_gate_translated");
        if ((int) ready.invokeExact() == 0) {
          error = "sigaction(SIGABRT) failed";
        }
      } finally {
        if (inJar) {
          Files.deleteIfExists(library);
        }
      }
    } catch (Throwable t) {
      error = t.toString();
    }
    ERROR = error;
    START = start;
    BLOCK_GATE_HOOK = error == null ? gateHook : null;
    BLOCK_GATE_TRANSLATED = error == null ? translated : null;
    if (error != null) {
      org.slf4j.LoggerFactory.getLogger(UcEngine.class)
          .warn(
              "the native abort guard is not loaded ({}): a guest that makes libunicorn abort"
                  + " ends this process",
              error);
    }
  }

  private static Path copyOut(java.net.URL url) throws IOException {
    Path copy = Files.createTempFile("toykvm-ucguard-", ".so");
    try (var in = url.openStream()) {
      Files.copy(in, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return copy;
  }
}
