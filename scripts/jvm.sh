# How ./toykvm starts its JVMs, shared with scripts/aot-train so that the AOT caches are made for
# exactly the command lines that use them (docs/performance.md, "Start-up time"). Sourced, not
# run; forks nothing, since ./toykvm sources it on every run.
#
# toykvm_jvm_setup JAVA TARGET sets:
#   TOYKVM_JARS         (array) the jars of the classpath
#   TOYKVM_CP           the classpath: TARGET's cli jar, then TARGET/lib/*.jar in byte order.
#                       Spelled out (no lib/*): an AOT cache is used only with the classpath it
#                       was made with.
#   TOYKVM_VMM_OPTS     (array) the VMM's JVM options
#   TOYKVM_DEVICE_OPTS  the options DeviceLauncher starts a device JVM with (its argv method)
#   TOYKVM_AOT_VMM, TOYKVM_AOT_DEVICE, TOYKVM_AOT_KEY
#                       the two caches and the key file that says what they were made for
#   TOYKVM_AOT_KEY_TEXT what the key file must hold for the caches to match
# It returns 1 (setting nothing useful) when TARGET has no cli jar.
#
# toykvm_aot_usable: whether the caches exist, are newer than every jar and match the key.

# Quiet: a cache the JVM refuses (another JDK, a changed jar) must not print anything, above all
# not on stdout, which is the guest's serial line. The JVM then runs without it.
TOYKVM_AOT_QUIET=(-Xlog:aot*=off -Xlog:cds*=off)

# For "toykvm run" only, both JVMs: C2 compiles a method after 10 times the usual calls and loops,
# and not early because the AOT cache's training profiles (JEP 515) say it was hot. A short run is
# then over before C2 starts (on 2 cores its compiles compete with the two JVMs for the CPU); a
# long one still gets C2 code, a little later. Not for "toykvm bench", whose warm-up is sized for
# the defaults. AOTReplayTraining is a diagnostic flag: a JDK without it ignores it.
TOYKVM_RUN_JIT_OPTS="-XX:+IgnoreUnrecognizedVMOptions -XX:+UnlockDiagnosticVMOptions"
TOYKVM_RUN_JIT_OPTS+=" -XX:-AOTReplayTraining"
TOYKVM_RUN_JIT_OPTS+=" -XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000"
TOYKVM_RUN_JIT_OPTS+=" -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000"

toykvm_jvm_setup() {
  local java="$1" target="$2" jar f
  TOYKVM_CP=""
  TOYKVM_JARS=()
  for f in "$target"/hypervisor-cli-*.jar; do
    case "$f" in *-tests.jar | *-sources.jar | *-javadoc.jar) continue ;; esac
    [[ -f "$f" ]] && jar="$f" && break
  done
  [[ -n "${jar:-}" ]] || return 1
  local saved_collate="${LC_COLLATE-unset}"
  LC_COLLATE=C # glob order = byte order, the same on every machine
  TOYKVM_JARS=("$jar" "$target"/lib/*.jar)
  if [[ "$saved_collate" == unset ]]; then unset LC_COLLATE; else LC_COLLATE="$saved_collate"; fi
  TOYKVM_CP="$jar"
  for f in "${TOYKVM_JARS[@]:1}"; do
    [[ -f "$f" ]] && TOYKVM_CP+=":$f"
  done
  TOYKVM_VMM_OPTS=(--enable-native-access=ALL-UNNAMED)
  # Must equal what DeviceLauncher.argv puts before its extra options.
  TOYKVM_DEVICE_OPTS="--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmx64m"
  TOYKVM_AOT_VMM="$target/toykvm.aot"
  TOYKVM_AOT_DEVICE="$target/toykvm-device.aot"
  TOYKVM_AOT_KEY="$target/toykvm.aot.key"
  local release=""
  [[ -r "${java%/bin/java}/release" ]] && { read -r -d '' release <"${java%/bin/java}/release" || true; }
  TOYKVM_AOT_KEY_TEXT="java=$java
release=${release//$'\n'/ }
classpath=$TOYKVM_CP
vmm=${TOYKVM_VMM_OPTS[*]}
device=$TOYKVM_DEVICE_OPTS"
}

toykvm_aot_usable() {
  [[ -s "$TOYKVM_AOT_VMM" && -s "$TOYKVM_AOT_DEVICE" && -s "$TOYKVM_AOT_KEY" ]] || return 1
  local f key=""
  for f in "${TOYKVM_JARS[@]}"; do
    [[ "$TOYKVM_AOT_VMM" -nt "$f" && "$TOYKVM_AOT_DEVICE" -nt "$f" ]] || return 1
  done
  read -r -d '' key <"$TOYKVM_AOT_KEY" || true
  [[ "$key" == "$TOYKVM_AOT_KEY_TEXT" ]]
}
