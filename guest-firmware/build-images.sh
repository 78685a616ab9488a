#!/bin/sh
# Run by the Maven build (guest-firmware/pom.xml): checks that the tools are installed,
# then builds the images with make. Fails with one clear line if a tool is missing.
set -eu
cd "$(dirname "$0")"
for tool in as ld objcopy make sha256sum gcc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    case "$tool" in
      sha256sum) package="coreutils: apt-get install coreutils" ;;
      gcc) package="gcc (with -m32: apt-get install gcc gcc-multilib if -m32 fails)" ;;
      *) package="binutils: apt-get install binutils make" ;;
    esac
    echo "cannot build guest firmware: '$tool' not found; install Debian's $package" >&2
    exit 1
  fi
done
exec make --no-print-directory "$@"
