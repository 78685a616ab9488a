package dev.toykvm.vmm;

import dev.toykvm.devices.DebugExitPort;
import java.io.OutputStream;

/**
 * Firmware to start with {@code --bios}.
 *
 * @param firmware the image, already checked
 * @param debugExit how port 0xf4 turns a write into an exit status
 * @param debugcon where the debug console (ports 0x402 and 0xe9) writes
 */
public record FirmwareBoot(
    Firmware firmware, DebugExitPort.Mode debugExit, OutputStream debugcon) {}
