#!/usr/bin/env bash
# Runs the whole "Schedule and broadcast jobs" tutorial on this machine, no Azure account needed:
# builds the project, starts the local hub, the simulated device and the job service, shows their
# output (one prefix per app), stops everything it started, and exits with the job service's code
# (0 when both jobs completed on the device).
set -euo pipefail
cd "$(dirname "$0")"

work="$PWD/target/run-tutorial"
export LOCAL_IOTHUB_DATA="$work/hub-data"   # a fresh hub, apart from any hub of your own
rm -rf "$work" && mkdir -p "$work"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

say() { printf '\n=== %s\n' "$*"; }
prefix() { sed -u -e "s/\x1b\[[0-9;]*m//g" -e "s/^/[$1] /"; }
wait_for() { # file, text, seconds, what
  for _ in $(seq 1 $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run-tutorial: $4 did not start within $3 s; its output is in $1" >&2
  exit 1
}

if (exec 3<>/dev/tcp/127.0.0.1/8883) 2>/dev/null; then
  echo "run-tutorial: port 8883 is taken (is a local hub already running?). Stop it, or follow the" >&2
  echo "two-terminal flow in README.md against your running hub." >&2
  exit 1
fi

say "Building (mvn -B -q -Dstyle.color=never install -DskipTests)"
mvn -B -q -Dstyle.color=never install -DskipTests

say "Starting the local hub"
java -jar local-hub/target/local-hub.jar > >(tee "$work/hub.log" | prefix hub) 2>&1 &
pids+=($!)
wait_for "$work/hub.log" "Ready." 60 "the local hub"

say "Starting the simulated device (sim-device)"
mvn -B -q -Dstyle.color=never -pl sim-device exec:java > >(tee "$work/device.log" | prefix device) 2>&1 &
pids+=($!)
wait_for "$work/device.log" "waiting for commands" 120 "the simulated device"

say "Scheduling the jobs (schedule-job-service)"
set +e
POLL_INTERVAL_SECONDS=2 mvn -B -q -Dstyle.color=never -pl schedule-job-service exec:java 2>&1 | prefix service
code=${PIPESTATUS[0]}
set -e
sleep 1   # let the device print the last desired-property patch

if [ "$code" -eq 0 ]; then
  say "Tutorial finished: both jobs completed (exit code 0)"
else
  say "Tutorial failed: the job service exited with $code (see its output above)"
fi
exit "$code"
