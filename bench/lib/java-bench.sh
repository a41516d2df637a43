# Sourced by the bench scripts that run the trainer's Java side (test scope). Expects $root (the
# repository), $work (a scratch dir) and $threads. Compiles the trainer image and its tests, puts
# their classpath in $cp and defines java_run, which runs java with the trainer image's JVM options
# and malloc setting (trainer-image/Dockerfile ENTRYPOINT and ENV), so that the figures are those of
# production: the heap is a quarter of the memory (tensors live in native memory) and allocations of
# 32 MiB and more are returned to the kernel when freed.
#
#   java_run [JVM_OPTION...] MAIN_CLASS [ARG...]

(cd "$root" && mvn -B -ntp -o -q -pl trainer-image -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test >&2)
cp="$root/trainer-image/target/test-classes:$root/trainer-image/target/classes:$root/contract/target/classes:$(cat "$work/cp.txt")"
java_opts="-XX:MaxRAMPercentage=25"

java_run() {
  MALLOC_MMAP_THRESHOLD_=33554432 java $java_opts -Dai.djl.pytorch.num_threads="$threads" -Dai.djl.pytorch.num_interop_threads="$threads" \
    -Dlogback.configurationFile="$root/bench/trainer/logback-bench.xml" \
    -cp "$cp" "$@"
}
