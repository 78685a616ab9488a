package dev.toykvm.kernel.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The calls of Debian's {@code libunicorn.so.2} that toykvm uses, linked once per JVM with the FFM
 * API; {@link #LOAD_ERROR} says why if the library cannot be loaded.
 */
final class UcLibrary {
  private UcLibrary() {}

  static final String LOAD_ERROR;
  static final MethodHandle OPEN;
  static final MethodHandle CLOSE;
  static final MethodHandle STRERROR;
  static final MethodHandle REG_READ;
  static final MethodHandle REG_WRITE;
  static final MethodHandle MEM_MAP;
  static final MethodHandle MEM_MAP_PTR;
  static final MethodHandle MEM_UNMAP;
  static final MethodHandle MEM_READ;
  static final MethodHandle MEM_WRITE;
  static final MethodHandle MMIO_MAP;
  static final MethodHandle HOOK_ADD;
  static final MethodHandle HOOK_DEL;
  static final MethodHandle EMU_START;
  static final MemorySegment EMU_START_ADDRESS;
  static final MethodHandle EMU_STOP;
  static final MethodHandle CTL2;
  static final MethodHandle CONTEXT_ALLOC;
  static final MethodHandle CONTEXT_SAVE;
  static final MethodHandle CONTEXT_RESTORE;
  static final MethodHandle CONTEXT_FREE;

  static {
    String error = null;
    MethodHandle[] h = new MethodHandle[20];
    MemorySegment emuStart = MemorySegment.NULL;
    try {
      Linker linker = Linker.nativeLinker();
      SymbolLookup lib = SymbolLookup.libraryLookup(UcEngine.LIBRARY, Arena.global());
      h[0] =
          bind(
              linker, lib, "uc_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
      h[1] = bind(linker, lib, "uc_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
      h[2] = bind(linker, lib, "uc_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
      h[3] =
          bind(
              linker,
              lib,
              "uc_reg_read",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
      h[4] =
          bind(
              linker,
              lib,
              "uc_reg_write",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
      h[5] =
          bind(
              linker,
              lib,
              "uc_mem_map",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
      h[6] =
          bind(
              linker,
              lib,
              "uc_mem_map_ptr",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
      h[7] =
          bind(
              linker,
              lib,
              "uc_mem_unmap",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
      h[8] =
          bind(
              linker,
              lib,
              "uc_mem_read",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
      h[9] =
          bind(
              linker,
              lib,
              "uc_mem_write",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
      h[10] =
          bind(
              linker,
              lib,
              "uc_mmio_map",
              FunctionDescriptor.of(
                  JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
      h[11] =
          linker.downcallHandle(
              lib.findOrThrow("uc_hook_add"),
              FunctionDescriptor.of(
                  JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG,
                  JAVA_INT),
              Linker.Option.firstVariadicArg(7));
      h[12] = bind(linker, lib, "uc_hook_del", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
      h[13] =
          bind(
              linker,
              lib,
              "uc_emu_start",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
      emuStart = lib.findOrThrow("uc_emu_start");
      h[14] = bind(linker, lib, "uc_emu_stop", FunctionDescriptor.of(JAVA_INT, ADDRESS));
      h[15] =
          linker.downcallHandle(
              lib.findOrThrow("uc_ctl"),
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG),
              Linker.Option.firstVariadicArg(2));
      h[16] =
          bind(linker, lib, "uc_context_alloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
      h[17] =
          bind(linker, lib, "uc_context_save", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
      h[18] =
          bind(
              linker, lib, "uc_context_restore", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
      h[19] = bind(linker, lib, "uc_context_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
      error = UcEngine.LIBRARY + " cannot be loaded (" + e.getMessage() + ")";
    } catch (IllegalCallerException e) {
      error = "native access is disabled: run java with --enable-native-access=ALL-UNNAMED";
    }
    LOAD_ERROR = error;
    OPEN = h[0];
    CLOSE = h[1];
    STRERROR = h[2];
    REG_READ = h[3];
    REG_WRITE = h[4];
    MEM_MAP = h[5];
    MEM_MAP_PTR = h[6];
    MEM_UNMAP = h[7];
    MEM_READ = h[8];
    MEM_WRITE = h[9];
    MMIO_MAP = h[10];
    HOOK_ADD = h[11];
    HOOK_DEL = h[12];
    EMU_START = h[13];
    EMU_START_ADDRESS = emuStart;
    EMU_STOP = h[14];
    CTL2 = h[15];
    CONTEXT_ALLOC = h[16];
    CONTEXT_SAVE = h[17];
    CONTEXT_RESTORE = h[18];
    CONTEXT_FREE = h[19];
  }

  static void check() {
    if (LOAD_ERROR != null) {
      throw new IllegalStateException(LOAD_ERROR);
    }
  }

  private static MethodHandle bind(
      Linker linker, SymbolLookup lib, String name, FunctionDescriptor descriptor) {
    return linker.downcallHandle(lib.findOrThrow(name), descriptor);
  }
}
