#!/usr/bin/env bash
# Runs the whole "Schedule and broadcast jobs" tutorial on this machine, no Azure account needed: builds the
# project when its sources changed, starts a fresh local hub, then the simulated device and the job service
# with plain `java` (the way you would run a copied sample), shows their output with one prefix per app,
# stops everything it started, and exits with the job service's code (0 when both jobs completed).
set -euo pipefail
cd "$(dirname "$0")"

# This script always uses its own fresh local hub; the apps' variables are for running them by hand.
for variable in IOTHUB_DEVICE_CONNECTION_STRING IOTHUB_CONNECTION_STRING IOTHUB_DEVICE_ID LOCAL_IOTHUB_DATA; do
  if [ -n "${!variable:-}" ]; then
    echo "run-tutorial: ignoring $variable (this script runs the tutorial against a fresh local hub)"
    unset "$variable"
  fi
done

work="target/run-tutorial"
data="$work/hub-data"
# A fresh hub every run: empty store, only the default device. Its development CA is kept from the last run
# (generating keys takes seconds); delete target/run-tutorial to start from scratch.
rm -f "$work"/*.log "$data"/hub.mv.db "$data"/*.properties "$data"/*.txt
mkdir -p "$work"
# Short-lived JVMs start faster with the quick compiler only; leave this out for long runs.
java_options=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  sleep 0.2 # let the prefixing filters print the apps' last lines
}
trap cleanup EXIT
trap 'echo; echo "run-tutorial: stopped by Ctrl-C"; exit 130' INT

say() { printf '\n=== %s\n' "$*"; }
# Starts an app in the background; its output goes to the console (prefixed) and to $work/<name>.log. The
# output filters ignore Ctrl-C, so that what an app prints while it stops (after cleanup's TERM) gets through.
start() {
  local name=$1; shift
  "$@" > >(trap '' INT; tee "$work/$name.log" | sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
  eval "${name}_pid=$!"
}
# Stops the script, showing the app's last lines, as soon as an app it started has died.
check_alive() {
  local name=$1 pid=$2
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null && code=0 || code=$?
    sleep 0.3 # its output filter may still be writing the last lines to the log
    if [ "${#pids[@]}" -gt 1 ]; then # its lines may be buried under the others' output
      echo "run-tutorial: the $name stopped (exit code $code); its last lines:" >&2
      tail -n 8 "$work/$name.log" 2>/dev/null | sed 's/^/    /' >&2
    else # it was the only app running: its lines are right above
      echo "run-tutorial: the $name stopped (exit code $code); see its output above" >&2
    fi
    exit 1
  fi
}
wait_for() { # name, text, seconds
  local name=$1 text=$2 pid_var="${1}_pid"
  for _ in $(seq 1 $(($3 * 20))); do
    grep -q "$text" "$work/$name.log" 2>/dev/null && return 0
    check_alive "$name" "${!pid_var}"
    sleep 0.05
  done
  echo "run-tutorial: the $name was not ready within $3 s; its output is in $work/$name.log" >&2
  exit 1
}

stamp=target/run-tutorial.built
if [ ! -f "$stamp" ] || [ -n "$(find pom.xml ./*/pom.xml ./*/src -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  # Only the two apps and what they need (the hub's jar among it): not the benchmarks or the distribution's runtime.
  build="mvn -B -pl sim-device,schedule-job-service -am package -DskipTests"
  if [ ! -f "$stamp" ]; then
    say "First build of the project ($build): about a minute on a 2-core machine, more while Maven downloads dependencies"
  else
    say "Building ($build), because the sources changed since the last build"
  fi
  # The classpath files let the apps start with plain java, without Maven (Maven 3.8 leaves colour codes).
  # Progress: one line per module; Maven's whole output is in $work/build.log, and shown when the build fails.
  if ! $build -Dstyle.color=never dependency:build-classpath \
      -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime 2>&1 | sed 's/\x1b\[[0-9;]*m//g' \
      | tee "$work/build.log" | sed -u -n 's/^\[INFO\] Building \(.*[^ ]\) *\[\([0-9]*\)\/\([0-9]*\)\]$/  building module \2 of \3: \1/p'; then
    echo "run-tutorial: the build failed; Maven's last lines (all of them are in $work/build.log):" >&2
    grep -v '^\[INFO\]' "$work/build.log" | tail -n 30 >&2
    exit 1
  fi
  touch "$stamp"
fi

say "Starting a fresh local hub (data in $data)"
# Arguments go to the hub, e.g. `./run-tutorial.sh --tier S1` for IoT Hub S1's limits (docs/tutorial.md).
start hub java "${java_options[@]}" -jar local-hub/target/local-hub.jar --data "$data" "$@"
wait_for hub "Ready." 60

# How a Java app reaches the local hub: the JVM options the hub wrote (trust of its development CA, and its
# CONNECT proxy when port 443 was refused) and its well-known development connection strings.
mapfile -t jvm_options < "$data/client-jvm-flags.txt"
property() { sed -n "s/^$1=//p" "$data/endpoints.properties" | sed 's/\\\(.\)/\1/g'; }
classpath() { echo "$1/target/classes:$(cat "$1/target/classpath.txt")"; }

say "Starting the simulated device (sim-device)"
start device java "${java_options[@]}" "${jvm_options[@]}" -cp "$(classpath sim-device)" dev.iotjobs.simdevice.SimDevice \
    "$(property deviceConnectionString)"
wait_for device "waiting for commands" 30

say "Scheduling the jobs (schedule-job-service)"
start service env POLL_INTERVAL_SECONDS=1 java "${java_options[@]}" "${jvm_options[@]}" -cp "$(classpath schedule-job-service)" \
    dev.iotjobs.schedulejobs.ScheduleJobService "$(property hubConnectionString)"
while kill -0 "$service_pid" 2>/dev/null; do
  check_alive hub "$hub_pid"
  check_alive device "$device_pid"
  sleep 0.1
done
wait "$service_pid" && code=0 || code=$?
# The device prints the desired-property patch a moment after the twin job completes.
for _ in $(seq 1 20); do grep -q '"building"' "$work/device.log" && break; sleep 0.05; done

if [ "$code" -eq 0 ]; then
  say "Tutorial finished: both jobs completed (exit code 0)"
else
  say "Tutorial failed: the job service exited with $code (see its output above)"
fi
exit "$code"
