# Shared by ./toykvm and ./build: finds JDK 25 and makes sure the tools the build needs exist.
# Sourced, not run. Sets JAVA_HOME, JAVA and TOYKVM_ROOT; stops the calling script with a
# message that says exactly what to install when something is missing.

TOYKVM_ROOT="${BASH_SOURCE[0]%/*}" # the scripts folder, without forking dirname
[[ "$TOYKVM_ROOT" == "${BASH_SOURCE[0]}" ]] && TOYKVM_ROOT=.
TOYKVM_ROOT="$(cd "$TOYKVM_ROOT/.." && pwd)"

toykvm_die() {
  echo "toykvm: $*" >&2
  exit 1
}

# The major version of the java binary in $1/bin, or nothing. Reads the JDK's release file when it
# has one (JAVA_VERSION="25.0.3"): starting a JVM to ask would cost every ./toykvm run ~50 ms.
toykvm_java_major() {
  [[ -x "$1/bin/java" ]] || return 0
  local line
  if [[ -r "$1/release" ]]; then
    while IFS= read -r line; do
      if [[ "$line" =~ ^JAVA_VERSION=\"(1\.)?([0-9]+) ]]; then
        echo "${BASH_REMATCH[2]}"
        return 0
      fi
    done <"$1/release"
  fi
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

toykvm_find_jdk() {
  local major
  if [[ -n "${JAVA_HOME:-}" ]]; then
    major="$(toykvm_java_major "$JAVA_HOME")"
    if [[ -n "$major" && "$major" -ge 25 ]]; then
      return 0
    fi
  fi
  local candidate
  for candidate in /usr/lib/jvm/temurin-25*; do
    major="$(toykvm_java_major "$candidate")"
    if [[ -n "$major" && "$major" -ge 25 ]]; then
      JAVA_HOME="$candidate"
      return 0
    fi
  done
  toykvm_die "JDK 25 not found (JAVA_HOME=${JAVA_HOME:-unset} is not >= 25 and there is no /usr/lib/jvm/temurin-25*).
Install Temurin 25, e.g.: sudo apt-get install temurin-25-jdk (Adoptium's apt repository),
or set JAVA_HOME to a JDK 25 or later."
}

toykvm_can_apt() {
  [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1
}

# toykvm_need_pkg DEBIAN_PACKAGE WHAT CHECK_COMMAND...: runs the check; if it fails, installs the
# package when we are root with apt-get, else stops with the apt-get line to run.
toykvm_need_pkg() {
  local pkg="$1" what="$2"
  shift 2
  if "$@" >/dev/null 2>&1; then
    return 0
  fi
  if toykvm_can_apt; then
    echo "toykvm: $what is missing; installing Debian's $pkg" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2 ||
      toykvm_die "could not install $pkg; install Debian's $pkg: sudo apt-get install $pkg"
    "$@" >/dev/null 2>&1 || toykvm_die "$what is still missing after installing $pkg"
  else
    toykvm_die "$what is missing: install Debian's $pkg: sudo apt-get install $pkg"
  fi
}

toykvm_has_libunicorn() {
  # The usual places first, without a fork (./toykvm runs this every time); then ldconfig.
  local lib
  for lib in /usr/lib/*-linux-gnu/libunicorn.so.2 /usr/lib/libunicorn.so.2 \
    /usr/local/lib/libunicorn.so.2; do
    [[ -e "$lib" ]] && return 0
  done
  # Not grep -q: it would exit early, ldconfig would die of SIGPIPE, and pipefail would say "no".
  ldconfig -p 2>/dev/null | grep 'libunicorn\.so\.2 ' >/dev/null
}

toykvm_find_jdk
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
toykvm_need_pkg libunicorn2 "libunicorn.so.2 (the Unicorn CPU emulator)" toykvm_has_libunicorn
toykvm_need_pkg binutils "as, ld and objcopy (GNU binutils, to build the guest firmware)" \
  command -v as ld objcopy
toykvm_need_pkg gcc "gcc (builds the native guard around the CPU emulator, and C guests)" \
  command -v gcc
toykvm_need_pkg make "make (to build the guest firmware)" command -v make
toykvm_need_pkg maven "mvn (Apache Maven)" command -v mvn
toykvm_need_pkg util-linux "setpriv (util-linux; starts exec= devices so they die with the VM)" \
  command -v setpriv
