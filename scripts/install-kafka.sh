#!/usr/bin/env bash
# Installs Apache Kafka's broker (org.apache.kafka:kafka_2.13, see scripts/kafka/pom.xml) and its
# dependencies as jars into <repo>/.tools/kafka/libs, from Maven Central through Maven's own
# resolver. The stream tests and benchmark start it themselves in KRaft mode on free ports:
#   java -cp '.tools/kafka/libs/*' kafka.tools.StorageTool format --standalone ...
#   java -cp '.tools/kafka/libs/*' kafka.Kafka server.properties
# Needs Java 17 and Maven (installed from Debian when missing). Idempotent: skipped when the jars
# of the pinned version are there.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="${ORTLINE_TOOLS_DIR:-$ROOT/.tools}"
LIBS="$TOOLS/kafka/libs"
POM="$ROOT/scripts/kafka/pom.xml"
VERSION=$(grep -A1 '<artifactId>kafka_2.13</artifactId>' "$POM" | sed -n 's:.*<version>\(.*\)</version>.*:\1:p')
log() { echo "install-kafka: $*" >&2; }

if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  log "installing Java 17 and Maven from Debian"
  SUDO=()
  [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless maven >/dev/null
fi

stamp="$LIBS/.pom"
if [ -f "$LIBS/kafka_2.13-$VERSION.jar" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$POM"; then
  log "Kafka $VERSION already in $LIBS"
  exit 0
fi
started=$(date +%s)
log "resolving Kafka $VERSION and its dependencies with Maven"
rm -rf "$LIBS"
mkdir -p "$LIBS"
mvn_log="$TOOLS/kafka/maven.log"
mvn -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$mvn_log" 2>&1 ||
  { tail -n 30 "$mvn_log" >&2; log "Maven failed (whole log: $mvn_log)"; exit 1; }
[ -f "$LIBS/kafka_2.13-$VERSION.jar" ] || { log "Maven finished, but kafka_2.13-$VERSION.jar is not in $LIBS"; exit 1; }
cp "$POM" "$stamp"
log "ready in $(($(date +%s) - started)) s: $(ls "$LIBS"/*.jar | wc -l) jars in $LIBS"
