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
#                                    (each bounded: SANITIZE_TIMEOUT seconds, default 120)
#   dist/gpu-kit/run.sh bench        JMH GemmBench, AttentionGpuBench and FlowStepGpuBench (JMH options may follow)
#   python3 tools/gemm_bench.py; python3 tools/sdpa_bench.py    the PyTorch peers on the same shapes
# tools/gpu_session.sh runs all of it (and more) in one bounded command: see its header.
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
    # The four tools run at once, each bounded by SANITIZE_TIMEOUT seconds (default 120): instrumenting is mostly CPU
    # work and KernelSmoke's kernels are small, so together they take about the slowest tool's time, not the sum.
    # SANITIZE_PARALLEL=0 runs them one after another. Logs: $SANITIZE_LOGS (default dist/gpu-kit)/sanitizer-TOOL.log.
    # One line a tool: "sanitize TOOL: clean | N errors | timed out, K error reports before it, having done PART |
    # unsupported | failed (exit N, S s) ...".
    limit=${SANITIZE_TIMEOUT:-120}
    logs=${SANITIZE_LOGS:-$kit}
    mkdir -p "$logs"
    cs=$(command -v compute-sanitizer || ls "${CUDA_HOME:-/usr/local/cuda}"/bin/compute-sanitizer /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
    if [ -z "$cs" ]; then echo "sanitize: compute-sanitizer not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda*/bin): skipped"; exit 3; fi
    tools=(memcheck racecheck synccheck initcheck)
    for tool in "${tools[@]}"; do
      log="$logs/sanitizer-$tool.log"
      (  # the exit code and seconds end the tool's own log: with the tools in parallel, waiting does not time them
        t0=$SECONDS
        timeout -k 5 "$limit" "$cs" --tool "$tool" --target-processes all --error-exitcode 9 \
          "$java" "${flags[@]}" -cp "$cp" ecar.cuda.KernelSmoke > "$log" 2>&1 < /dev/null
        echo "sanitize-exit $? $((SECONDS - t0))" >> "$log"
      ) &
      [ "${SANITIZE_PARALLEL:-1}" = 1 ] || wait
    done
    wait
    status=0
    for tool in "${tools[@]}"; do
      log="$logs/sanitizer-$tool.log"
      read -r _ rc secs < <(grep '^sanitize-exit ' "$log" | tail -1)
      # memcheck, synccheck, initcheck: "ERROR SUMMARY: N errors"; racecheck: "RACECHECK SUMMARY: H hazards displayed (N errors, W warnings)"
      errors=$(sed -n -e 's/.*ERROR SUMMARY: \([0-9]*\) error.*/\1/p' -e 's/.*RACECHECK SUMMARY.*(\([0-9]*\) error.*/\1/p' "$log" | sort -n | tail -1)
      case ${rc:-?} in
        0) verdict="clean" ;;
        124|137)   # killed: no summary; count the error reports it had printed, and say how far the smoke got
          found=$(grep -cE '^========= (Invalid|Uninitialized|Error|Race|Barrier|Program hit|Warning)' "$log")
          reached=$(grep -h '^kernel smoke: done ' "$log" | tail -1 | sed 's/^kernel smoke: done //')
          verdict="timed out, $found error reports before it, ${reached:+having done $reached}"
          verdict=${verdict%, } ;;
        *) if grep -q 'kernel smoke: no GPU' "$log"; then verdict="no GPU"
           elif grep -q 'Device not supported' "$log"; then verdict="unsupported (compute-sanitizer: Device not supported)"
           elif [ -n "$errors" ] && [ "$errors" != 0 ]; then verdict="$errors errors"
           else verdict="failed"; fi ;;
      esac
      echo "sanitize $tool: $verdict (exit ${rc:-?}, ${secs:-?} s) $(grep -hE 'ERROR SUMMARY|RACECHECK SUMMARY|kernel smoke' "$log" | sed 's/^=* *//' | tr '\n' ' ')"
      [ "${rc:-1}" = 0 ] || status=1
    done
    exit $status ;;
  bench) shift; "$java" "${flags[@]}" -Djmh.ignoreLock=true -cp "$cp" org.openjdk.jmh.Main "${@:-GemmBench|AttentionGpuBench|FlowStepGpuBench}" ;;
  *) echo "usage: $0 tests [package] | sanitize | bench [JMH options]" >&2; exit 2 ;;
esac
RUN
chmod +x "$kit/run.sh"
echo "[gpu-kit] $kit: $(du -sh "$kit" | cut -f1) (carry it with dist/ecar-runtime-linux-x86_64.tar.gz)"
