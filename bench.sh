#!/usr/bin/env bash
# Job fan-out benchmarks of the local hub (see docs/benchmarks.md).
#   ./bench.sh                      small mode, every scenario (about a minute)
#   ./bench.sh full                 full mode: 1,000,000 twins, 10,000 connected devices (tens of minutes)
#   ./bench.sh [small|full] twin-job method-job query scaling startup    chosen scenarios
# Each scenario starts its own in-process hub on free ports (it does not need 443 or 8883) and prints
#   BENCH <scenario> devices=<n> seconds=<s> rate=<devices per second> heapMB=<m> [p50ms=<x> p99ms=<y>]
# except startup, which times `java -jar local-hub/target/local-hub.jar` (free ports, an existing data
# directory) until it serves, and LocalHub.start of an embedded hub, and prints
#   BENCH startup runs=<n> medianSeconds=<s> minSeconds=<s> maxSeconds=<s> embeddedMedianSeconds=<s>
# Extra JVM options (e.g. -XX:StartFlightRecording=...) can be passed in BENCH_JAVA_OPTS (benchmark and hub)
# and BENCH_FLEET_JAVA_OPTS (the simulated fleet's JVM of the method-job scenario).
set -euo pipefail
cd "$(dirname "$0")"

# Built in the reactor (-am), nothing installed: local-hub's tests find fleet-simulator's classes in its target/.
# The startup scenario (run unless other scenarios are chosen) starts the executable jar: then it is packaged too.
build=package
for arg in "$@"; do
  case $arg in small|full) ;; startup) build=package; break ;; *) build=test-compile ;; esac
done
mvn -B -q -Dstyle.color=never -pl local-hub -am "$build" -DskipTests dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
cp="local-hub/target/test-classes:local-hub/target/classes:$(cat local-hub/target/bench.classpath)"

# The method-job scenario holds both ends of every device connection in this one JVM (2 descriptors each).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

heap="-Xmx4g"
case "${1:-small}" in full) heap="-Xmx6g" ;; esac
# shellcheck disable=SC2086
exec java $heap ${BENCH_JAVA_OPTS:-} -Dbench.fleet.javaOptions="${BENCH_FLEET_JAVA_OPTS:-}" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$cp" dev.iotjobs.localhub.bench.JobBenchmark "$@"
