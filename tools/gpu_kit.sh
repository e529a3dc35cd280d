#!/usr/bin/env bash
# dist/gpu-kit/: the GPU tests, the kernel smoke run for compute-sanitizer and the JMH benchmarks, runnable with the
# bundle's Java on a GPU machine that has no JDK and no Maven (the lent GPU machines have nvcc, PyTorch and
# compute-sanitizer but no Java and no network). Build here, carry dist/ecar-runtime-linux-x86_64.tar.gz and
# dist/gpu-kit there, run from the repository root:
#   ./ecar bundle && tools/gpu_kit.sh                      (here)
#   tar xzf dist/ecar-runtime-linux-x86_64.tar.gz -C dist  (there, then:)
#   dist/ecar-runtime/ecar info
#   dist/gpu-kit/run.sh tests        GPU tests vs the CPU backend (ecar.cuda and sub-packages)
#   dist/gpu-kit/run.sh sanitize     compute-sanitizer memcheck, racecheck, synccheck, initcheck over KernelSmoke
#   dist/gpu-kit/run.sh bench        JMH AttentionGpuBench and FlowStepGpuBench (JMH options may follow)
#   python3 tools/sdpa_bench.py      PyTorch SDPA on the same shapes
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fail() { echo "[gpu-kit] FAILED: $*" >&2; exit 1; }
[ -d target/test-classes ] && [ -f target/test-classpath.txt ] || fail "compile the tests first: mvn -DskipTests test-compile (./ecar bundle does)"
[ -f target/test-classes/META-INF/BenchmarkList ] || fail "target/test-classes has no JMH BenchmarkList: recompile with mvn test-compile"
kit=dist/gpu-kit
rm -rf "$kit"
mkdir -p "$kit/lib"
cp -r target/test-classes "$kit/test-classes"
tr ':' '\n' < target/test-classpath.txt | while read -r jar || [ -n "$jar" ]; do
  case "$(basename "$jar")" in
    junit-*|opentest4j-*|apiguardian-*|jmh-*|jopt-simple-*|commons-math3-*) cp "$jar" "$kit/lib/" ;;
  esac
done
cat > "$kit/run.sh" <<'RUN'
#!/usr/bin/env bash
# dist/gpu-kit/run.sh tests [package] | sanitize | bench [JMH options]   (run from the repository root; see tools/gpu_kit.sh)
set -uo pipefail
kit=$(cd "$(dirname "$0")" && pwd)
dist=$(dirname "$kit")
java="$dist/ecar-runtime/runtime/bin/java"
[ -x "$java" ] || { echo "unpack the bundle first: tar xzf $dist/ecar-runtime-linux-x86_64.tar.gz -C $dist" >&2; exit 1; }
cp="$kit/test-classes:$kit/lib/*:$dist/ecar-runtime/lib/*"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true)
case "${1:-}" in
  tests) "$java" "${flags[@]}" -cp "$cp" ecar.cuda.GpuTestMain "${2:-ecar.cuda}" ;;
  sanitize)
    status=0
    for tool in memcheck racecheck synccheck initcheck; do
      compute-sanitizer --tool "$tool" --target-processes all --error-exitcode 9 "$java" "${flags[@]}" -cp "$cp" ecar.cuda.KernelSmoke \
        > "$kit/sanitizer-$tool.log" 2>&1
      rc=$?
      echo "$tool: exit $rc; $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|kernel smoke' "$kit/sanitizer-$tool.log" | tr '\n' ' ')"
      [ $rc -eq 0 ] || status=1
    done
    exit $status ;;
  bench) shift; "$java" "${flags[@]}" -Djmh.ignoreLock=true -cp "$cp" org.openjdk.jmh.Main "${@:-AttentionGpuBench|FlowStepGpuBench}" ;;
  *) echo "usage: $0 tests [package] | sanitize | bench [JMH options]" >&2; exit 2 ;;
esac
RUN
chmod +x "$kit/run.sh"
echo "[gpu-kit] $kit: $(du -sh "$kit" | cut -f1) (carry it with dist/ecar-runtime-linux-x86_64.tar.gz)"
