#!/usr/bin/env bash
# Job fan-out benchmarks of the local hub (see docs/benchmarks.md).
#   ./bench.sh                      small mode, every scenario (a minute or two)
#   ./bench.sh full                 full mode: 1,000,000 twins, 10,000 connected devices (tens of minutes)
#   ./bench.sh [small|full] twin-job method-job query scaling startup telemetry    chosen scenarios
#   ./bench.sh [small|full] limit-rpc limit-store limit-merge limit-scan    limit scenarios (also alone)
#   ./bench.sh [small|full] c2d        cloud-to-device messages and feedback (only when named; see docs/benchmarks.md)
#   ./bench.sh [small|full] method-job-amqp limit-rpc-amqp    the method job with the fleet's devices on AMQP/TLS
#                                      (as the Java device SDK over AMQPS), and its limit (only when named)
# Each real scenario starts its own in-process hub on free ports (it does not need 443 or 8883) and prints
#   BENCH <scenario> devices=<n> seconds=<s> rate=<devices per second> heapMB=<m> [p50ms=<x> p99ms=<y>]
#         limit=<devices per second> ratio=<rate/limit> coldRate=<devices per second of the first, cold job>
# The limit scenarios measure one part of a real scenario without the hub, at the same size: limit-rpc (the
# method-job's fleet against a minimal MQTT/TLS server), limit-rpc-amqp (the method-job-amqp's AMQP fleet against
# a bare vertx-proton server over TLS that answers put-tokens and calls the method links), limit-store (the twin
# job's documents into a bare MVStore), limit-merge (the twin job's merge and serialization in memory), limit-scan
# (the query's condition in plain Java). They print the same line without limit and ratio. A real scenario's limit is the one measured
# in the same JVM at its size, after it: twin-job and scaling min(store, merge), method-job rpc, method-job-amqp
# rpc-amqp, query scan.
# Each scenario runs in a JVM of its own, so a real scenario's coldRate is the first job of a fresh hub in a
# fresh JVM.
# The telemetry scenario (devices from the fleet simulator send over MQTT, the Event Hubs client reads every
# partition; TelemetryBenchmark) prints
#   BENCH telemetry messages=<n> devices=<d> seconds=<s> rate=<read back/s> ingestRate=<acknowledged/s> p50ms= p99ms=
#         heapMBPerMillion=<m> diskMBPerMillion=<m> limit=<the telemetry log's raw appends/s> ratio=<rate/limit>
# The startup scenario times `java -jar local-hub/target/local-hub.jar` (free ports, an existing data
# directory) until it serves, and LocalHub.start of an embedded hub, and prints
#   BENCH startup runs=<n> medianSeconds=<s> minSeconds=<s> maxSeconds=<s> embeddedMedianSeconds=<s>
# The benchmark's JVM (and so its hub's) gets the options ./local-hub.sh gives the hub (BENCH_PLAIN_JVM=1: none).
# Extra JVM options (e.g. -XX:StartFlightRecording=...) can be passed in BENCH_JAVA_OPTS (benchmark and hub)
# and BENCH_FLEET_JAVA_OPTS (the simulated fleet's JVM of the method-job and limit-rpc scenarios and their AMQP
# variants; two fleets run in turn, so give JFR an existing directory as its filename, e.g. filename=fleet-jfr/, for
# one recording per fleet).
set -euo pipefail
cd "$(dirname "$0")"

# The harness is the benchmarks module, built in the reactor (-am) with what it runs, nothing installed. The startup
# scenario (run unless other scenarios are chosen) starts the hub's executable jar, which package builds.
mvn -B -q -Dstyle.color=never -pl benchmarks -am package -DskipTests dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=runtime
cp="benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)"

# The method-job and limit-rpc scenarios (and their AMQP variants) hold one end of each of 10,000 device connections in
# this JVM (the fleet's JVM, started from this one, holds the other ends and inherits the limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mode=small
case "${1:-}" in small|full) mode=$1; shift ;; esac
heap="-Xmx4g"
[ "$mode" = full ] && heap="-Xmx6g"
scenarios=("$@")
# The hub's JVM as ./local-hub.sh starts it: transparent huge pages where Linux offers them on request (a big job's
# heap growth otherwise costs page faults). BENCH_PLAIN_JVM=1 measures a plain `java -jar` JVM instead.
memory=()
if [ -z "${BENCH_PLAIN_JVM:-}" ] && grep -qs '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled; then
  memory=(-XX:+UseTransparentHugePages)
fi
[ ${#scenarios[@]} -gt 0 ] || scenarios=(twin-job method-job query scaling startup telemetry)
for scenario in "${scenarios[@]}"; do
  # shellcheck disable=SC2086
  java $heap ${memory[@]+"${memory[@]}"} ${BENCH_JAVA_OPTS:-} -Dbench.fleet.javaOptions="${BENCH_FLEET_JAVA_OPTS:-}" \
      -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -cp "$cp" dev.iotjobs.localhub.bench.JobBenchmark "$mode" "$scenario"
done
