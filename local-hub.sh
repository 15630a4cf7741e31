#!/usr/bin/env bash
# Starts the local hub from its executable jar, with a class-data-sharing archive (docs/local-hub.md, "Start-up time")
# and, on Linux, transparent huge pages for its heap (docs/local-hub.md, "Big fleets"):
#   ./local-hub.sh [options]      the options of java -jar local-hub/target/local-hub.jar (--help lists them)
# The first start after a build (or after a change of JDK) records the classes the hub loaded into
# local-hub/target/local-hub.jsa when the hub stops (Ctrl-C; writing it takes a few seconds); the next starts map
# them from there instead of loading them from the jar, which takes about a third less time.
# Build the jar first: mvn -B -q -pl local-hub -am package -DskipTests
# Extra JVM options: LOCAL_HUB_JAVA_OPTS; another jar: LOCAL_HUB_JAR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jar="${LOCAL_HUB_JAR:-$here/local-hub/target/local-hub.jar}"
if [ ! -f "$jar" ]; then
  echo "local-hub.sh: $jar is missing; build it with: mvn -B -q -pl local-hub -am package -DskipTests" >&2
  exit 1
fi
java="java"
if [ -n "${JAVA_HOME:-}" ]; then java="$JAVA_HOME/bin/java"; fi
archive="${jar%.jar}.jsa"
stamp="$archive.jdk"
# An archive belongs to one jar and one JDK build: the JVM checks both and ignores an archive that does not match,
# so the script makes a new one when the jar is newer than it or the java binary is another one.
jdk="$(readlink -f "$(command -v "$java")")"
jdk="$jdk $(stat -c %Y "$jdk" 2>/dev/null || stat -f %m "$jdk" 2>/dev/null || true)"
quiet=(-Xlog:cds=off -Xlog:cds+dynamic=off) # no warning for classes that cannot be archived, or an unusable archive
# Transparent huge pages for the heap where Linux offers them on request ("madvise", the usual default): a hub's
# first big job otherwise spends a fifth of its time in page faults while the heap grows to its working size
# (1M twins: first twin job 60,000-69,000 devices/s without, about 90,000 with; docs/benchmarks.md).
memory=()
if grep -qs '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled; then memory=(-XX:+UseTransparentHugePages); fi
# shellcheck disable=SC2086
if [ -f "$archive" ] && [ "$archive" -nt "$jar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$jdk" ]; then
  exec "$java" -XX:SharedArchiveFile="$archive" -Xshare:auto "${quiet[@]}" ${memory[@]+"${memory[@]}"} ${LOCAL_HUB_JAVA_OPTS:-} -jar "$jar" "$@"
fi

echo "local-hub.sh: this start records a class-data-sharing archive for the next ones ($archive, written when the hub stops)" >&2
rm -f "$archive" "$stamp"
# Ctrl-C stops the hub, which writes the archive as it exits; this script waits for that and keeps the archive
# only if it was written whole (a handler, not an ignored signal: the hub must still get Ctrl-C).
trap ':' INT TERM
status=0
# shellcheck disable=SC2086
"$java" -XX:ArchiveClassesAtExit="$archive.tmp" "${quiet[@]}" ${memory[@]+"${memory[@]}"} ${LOCAL_HUB_JAVA_OPTS:-} -jar "$jar" "$@" || status=$?
if [ -s "$archive.tmp" ]; then
  mv "$archive.tmp" "$archive"
  echo "$jdk" > "$stamp"
else
  rm -f "$archive.tmp"
fi
exit "$status"
