package dev.toykvm.devices.pc;

import static dev.toykvm.devices.pc.I8042.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class I8042Test {
  private int resets;
  private final I8042 kbc = new I8042(() -> resets++);

  private int status() {
    return (int) kbc.read(0, 1); // inb(0x64)
  }

  private void command(int cmd) {
    kbc.write(0, 1, cmd); // outb(cmd, 0x64)
  }

  private int data() {
    return (int) kbc.dataPort().read(0, 1); // inb(0x60)
  }

  private void data(int b) {
    kbc.dataPort().write(0, 1, b); // outb(b, 0x60)
  }

  @Test
  void atStartBothBuffersAreEmptyAndTheSystemFlagIsSet() {
    assertEquals(STATUS_SYSTEM | STATUS_NOT_INHIBITED, status());
    assertEquals(0, data(), "an empty output buffer reads 0");
  }

  @Test
  void linuxRebootWaitsForTheInputBufferThenSendsFe() {
    // arch/x86/kernel/reboot.c: kb_wait() polls for status bit 1 to clear, then outb(0xfe, 0x64).
    assertEquals(0, status() & STATUS_INPUT_FULL);
    command(CMD_RESET);
    assertEquals(1, resets);
  }

  @ParameterizedTest(name = "pulse command 0x{0} resets {1} times")
  @CsvSource({"fe, 1", "f0, 1", "fc, 1", "ff, 0", "f1, 0", "fd, 0"})
  void pulseCommandsResetWhenBit0IsPulsed(String cmd, int expected) {
    command(Integer.parseInt(cmd, 16));
    assertEquals(expected, resets);
  }

  @ParameterizedTest(name = "command 0x{0} answers 0x{1}")
  @CsvSource({"aa, 55", "ab, 00", "a9, 00", "e0, 00", "20, 07", "d0, cf"})
  void commandsWithAnAnswer(String cmd, String answer) {
    command(Integer.parseInt(cmd, 16));
    assertEquals(STATUS_OUTPUT_FULL, status() & STATUS_OUTPUT_FULL);
    assertEquals(Integer.parseInt(answer, 16), data());
    assertEquals(0, status() & STATUS_OUTPUT_FULL, "reading emptied the buffer");
  }

  @Test
  void theStatusSaysWhichPortWasWrittenLast() {
    command(CMD_READ_MODE);
    assertEquals(STATUS_COMMAND, status() & STATUS_COMMAND);
    data();
    command(CMD_WRITE_MODE);
    data(0x01);
    assertEquals(0, status() & STATUS_COMMAND);
  }

  @Test
  void theCommandByteIsWrittenAndCarriesTheSystemFlag() {
    command(CMD_WRITE_MODE);
    data(0x01);
    assertEquals(0, status() & STATUS_SYSTEM);
    command(CMD_READ_MODE);
    assertEquals(0x01, data());
    command(CMD_SELF_TEST);
    assertEquals(SELF_TEST_OK, data());
    assertEquals(STATUS_SYSTEM, status() & STATUS_SYSTEM);
  }

  @Test
  void disableAndEnableSetTheCommandByte() {
    command(CMD_DISABLE_KBD);
    command(CMD_DISABLE_AUX);
    command(CMD_READ_MODE);
    assertEquals(MODE_DEFAULT | MODE_DISABLE_KBD | MODE_DISABLE_AUX, data());
    command(CMD_ENABLE_KBD);
    command(CMD_ENABLE_AUX);
    command(CMD_READ_MODE);
    assertEquals(MODE_DEFAULT, data());
  }

  @Test
  void writeOutputPortSetsA20AndResetsWhenBit0IsClear() {
    assertTrue(kbc.a20());
    command(CMD_WRITE_OUTPUT);
    data(0xcd); // A20 off, reset line not asserted
    assertFalse(kbc.a20());
    assertEquals(0, resets);
    command(CMD_READ_OUTPUT);
    assertEquals(0xcd, data());
    command(CMD_WRITE_OUTPUT);
    data(0xce); // bit 0 clear: reset
    assertEquals(1, resets);
  }

  @Test
  void a20Commands() {
    command(CMD_A20_OFF);
    assertFalse(kbc.a20());
    command(CMD_A20_ON);
    assertTrue(kbc.a20());
  }

  @ParameterizedTest
  @ValueSource(ints = {CMD_WRITE_KBD_BUFFER, CMD_WRITE_AUX_BUFFER})
  void writeBufferCommandsEchoTheByte(int cmd) {
    command(cmd);
    data(0x9c);
    assertEquals(0x9c, data());
  }

  @Test
  void bytesForTheAbsentMouseAreDropped() {
    command(CMD_WRITE_AUX);
    data(0xf4);
    command(0xc0); // read input port: not modelled
    assertEquals(2, kbc.ignored());
    assertEquals(0, status() & STATUS_OUTPUT_FULL);
    assertEquals(0, resets);
  }

  /** The keyboard's replies, each read once the status says a byte waits. */
  private java.util.List<Integer> replies() {
    java.util.List<Integer> out = new java.util.ArrayList<>();
    while ((status() & STATUS_OUTPUT_FULL) != 0) {
      out.add(data());
    }
    return out;
  }

  @Test
  void theKeyboardAnswersAResetWithAckAndItsSelfTest() {
    data(0xff);
    assertEquals(java.util.List.of(0xfa, 0xaa), replies());
    assertEquals(0, kbc.ignored());
    assertEquals(0, resets);
  }

  @ParameterizedTest
  @CsvSource({
    "0xf2, '0xfa 0xab 0x83'", // identify: an MF2 keyboard
    "0xee, '0xee'", // echo
    "0xf4, '0xfa'",
    "0xf5, '0xfa'",
    "0xf6, '0xfa'",
    "0x42, '0xfe'" // not a keyboard command: resend
  })
  void keyboardCommands(String cmd, String answer) {
    data(Integer.decode(cmd));
    assertEquals(
        java.util.Arrays.stream(answer.split(" ")).map(Integer::decode).toList(), replies());
  }

  @Test
  void commandsWithAnArgumentAckBoth() {
    data(0xed); // LEDs
    assertEquals(java.util.List.of(0xfa), replies());
    data(0x07);
    assertEquals(java.util.List.of(0xfa), replies());
    data(0xf0); // scan code set: 0 asks which
    data(0x00);
    assertEquals(java.util.List.of(0xfa, 0xfa, 0x02), replies());
    data(0xf0);
    data(0x01);
    data(0xf0);
    data(0x00);
    assertEquals(java.util.List.of(0xfa, 0xfa, 0xfa, 0xfa, 0x01), replies());
  }

  @Test
  void aResendRepeatsTheLastByte() {
    data(0xf2);
    replies();
    data(0xfe);
    assertEquals(java.util.List.of(0x83), replies());
  }

  @Test
  void theQueueIsBoundedAndWhatOverflowsIsCounted() {
    for (int i = 0; i < 20; i++) {
      data(0xee); // an echo each, nobody reading
    }
    assertEquals(17, replies().size()); // the output buffer and 16 behind it
    assertEquals(3, kbc.ignored());
  }

  @Test
  void aControllerCommandsAnswerWaitsBehindNothingButTakesTheBufferWhenEmpty() {
    command(CMD_SELF_TEST);
    assertEquals(java.util.List.of(SELF_TEST_OK), replies());
  }

  @Test
  void aCommandCancelsOneWaitingForItsByte() {
    command(CMD_WRITE_OUTPUT);
    command(CMD_READ_MODE);
    assertEquals(MODE_DEFAULT, data());
    data(0x00); // would have reset had 0xd1 still been waiting: goes to the keyboard instead
    assertEquals(0, resets);
  }
}
