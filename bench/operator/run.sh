#!/usr/bin/env bash
# Operator benchmark: create -> trainer-Job-created latency (p50/p99) with N FineTuneJobs present,
# and heap after reconciling M. Runs offline against fabric8's in-process mock API server.
#
#   bench/operator/run.sh [present=1000] [measured=100] [heapJobs=5000]
#
# Extra JVM options via BENCH_JAVA_OPTS (default: -Xmx1g plus the common-pool parallelism the
# operator image sets, see operator/Dockerfile). -Dbench.stockMockServer=true uses fabric8's stock
# CRUD dispatcher instead of the indexed one.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -ntp -o -q -pl operator -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
CP="operator/target/test-classes:operator/target/classes:contract/target/classes:$(cat operator/target/bench-classpath.txt)"
exec java ${BENCH_JAVA_OPTS:--Xmx1g -Djava.util.concurrent.ForkJoinPool.common.parallelism=2} -cp "$CP" io.kubetune.operator.bench.OperatorBench "$@"
