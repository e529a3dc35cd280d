#!/usr/bin/env bash
# What a GPU machine with a JDK 25 and Maven runs first for the CUDA runtime and kernels (issues 5 and 6),
# in order of risk (the lent GPU machines have neither: use tools/gpu_kit.sh there):
#   1. ecar info: the GPU, the driver and whether each kernel fatbin loads
#   2. the GPU tests (kernels and every CudaBackend op vs the CPU backend, tiny pipelines vs the CPU, runtime, graphs),
#      then ecar generate --backend cuda on the tiny presets
#   3. compute-sanitizer memcheck, racecheck, synccheck and initcheck over every kernel (KernelSmoke), if installed
#   4. the benchmarks: JMH (attention TFLOP/s, flow step GB/s, beside the copy ceiling), then PyTorch SDPA
# Output goes to the terminal and to target/gpu-check/*.log.
#   tools/gpu_check.sh [--no-bench]
set -uo pipefail
cd "$(dirname "$0")/.."
logs=target/gpu-check
mkdir -p "$logs"
step() { echo; echo "==== $*"; }
status=0

step "ecar info"
./ecar info 2>&1 | tee "$logs/info.log"

step "GPU tests (mvn test -Dtest='ecar.cuda.**')"
mvn -B test -Dtest='ecar.cuda.**' -Dsurefire.failIfNoSpecifiedTests=false 2>&1 | tee "$logs/tests.log" | grep -E 'Tests run:|FAIL|ERROR' || true
grep -q 'BUILD SUCCESS' "$logs/tests.log" || { echo "GPU tests FAILED (see $logs/tests.log)"; status=1; }

step "end to end on the GPU: ecar generate --backend cuda on the tiny presets (random weights: noise pictures)"
for m in dit-tiny flowar-tiny ecar-tiny; do
  ./ecar generate --model "$m" --backend cuda --class 1,3 --seed 5 --out "$logs/$m.png" > "$logs/generate-$m.log" 2>&1
  rc=$?
  echo "$m: exit $rc; $(tail -1 "$logs/generate-$m.log")"
  [ $rc -eq 0 ] || status=1
done

step "compute-sanitizer"
if command -v compute-sanitizer >/dev/null 2>&1; then
  . tools/jdk.sh && ecar_find_jdk
  cp="target/test-classes:target/classes:$(cat target/test-classpath.txt)"
  for tool in memcheck racecheck synccheck initcheck; do
    compute-sanitizer --tool "$tool" --target-processes all --error-exitcode 9 \
      "$ECAR_JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$cp" ecar.cuda.KernelSmoke \
      > "$logs/sanitizer-$tool.log" 2>&1
    rc=$?
    echo "$tool: exit $rc; $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$logs/sanitizer-$tool.log" | tail -1)"
    [ $rc -eq 0 ] || status=1
  done
else
  echo "compute-sanitizer not on the PATH: skipped"
fi

if [ "${1:-}" != "--no-bench" ]; then
  step "JMH: AttentionGpuBench, FlowStepGpuBench"
  ./ecar bench 'AttentionGpuBench|FlowStepGpuBench' 2>&1 | tee "$logs/jmh.log" | grep -E '^\[|^attention|^flow_step|skipped' || true
  step "PyTorch SDPA on the same shapes"
  if python3 -c 'import torch' 2>/dev/null; then
    python3 tools/sdpa_bench.py 2>&1 | tee "$logs/sdpa.log"
  else
    echo "PyTorch is not installed: pip install torch, then python3 tools/sdpa_bench.py"
  fi
fi
exit $status
