package dev.toykvm.cli;

import picocli.CommandLine.IVersionProvider;

/** {@code --version}: toykvm's version (from the jar manifest) and the Java runtime's. */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = Main.class.getPackage().getImplementationVersion();
    return new String[] {
      "toykvm " + (version == null ? "(development build)" : version),
      "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
    };
  }
}
