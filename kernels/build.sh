#!/usr/bin/env bash
# Compiles every kernels/*.cu into one fatbin (SASS for sm_80 and sm_90, PTX for compute_90, and for the Hopper
# families (*_sm90.cu, which use wgmma, TMA and setmaxnreg) SASS for sm_90a too),
# written to $1 (packaged as class-path resources kernels/NAME.fatbin). ptxas's resource report of each
# family is kept in $2/NAME.ptxas.txt. The build fails when a kernel spills registers to local memory.
# Without nvcc (or with ECAR_SKIP_KERNELS=true) it builds nothing and says so: the CPU backend still works.
set -euo pipefail
out=${1:?fatbin output folder}
reports=${2:?report folder}
src=$(cd "$(dirname "$0")" && pwd)

if [ "${ECAR_SKIP_KERNELS:-false}" = "true" ]; then
  echo "[kernels] ECAR_SKIP_KERNELS=true: GPU kernels NOT built; the jar will run on the CPU backend only."
  exit 0
fi
if ! command -v nvcc >/dev/null 2>&1; then
  echo "[kernels] nvcc not found on the PATH: GPU kernels NOT built; the jar will run on the CPU backend only."
  echo "[kernels] Install the CUDA toolkit (nvcc 12.x or 13.x) and rebuild to get the GPU backend."
  exit 0
fi
mkdir -p "$out" "$reports"

# No sm_89 SASS: Ada (8.6, 8.9) runs sm_80 SASS (same major version), and our kernels use no instruction sm_89 adds
# (FP8); leaving it out keeps the bundle under its 40 MB limit (it was a fifth of every fatbin).
# No sm_90a SASS for the other families either: it would be the sm_90 code again (they use no sm_90a instruction),
# which an H100 runs as well; it was a quarter of each of their fatbins.
arch_flags=(
  -gencode arch=compute_80,code=sm_80
  -gencode arch=compute_90,code=sm_90
  -gencode arch=compute_90,code=compute_90
)
hopper_flags=(-gencode arch=compute_90a,code=sm_90a)

# build_one SOURCE [NAME [EXTRA NVCC FLAGS...]]: SOURCE.cu into NAME.fatbin (NAME: the source's name by default)
build_one() {
  local cu=$1 name=${2:-$(basename "$1" .cu)}
  local extra=("${@:3}")
  local fatbin="$out/$name.fatbin" report="$reports/$name.ptxas.txt"
  # up to date: newer than its source, every shared header and this script (its flags)
  if [ -f "$fatbin" ] && [ -f "$report" ] && [ -z "$(find "$cu" "$src"/*.cuh "$src/build.sh" -newer "$fatbin" 2>/dev/null)" ]; then
    return 0
  fi
  local flags=("${arch_flags[@]}")
  case $name in *_sm90) flags+=("${hopper_flags[@]}") ;; esac
  if ! nvcc -fatbin -O3 -std=c++17 --threads 2 -lineinfo -Xptxas -v "${flags[@]}" "${extra[@]}" \
        -I "$src" -o "$fatbin" "$cu" > "$report" 2>&1; then
    cat "$report" >&2
    echo "[kernels] nvcc failed on $cu" >&2
    rm -f "$fatbin"
    return 1
  fi
  # ptxas prints "N bytes spill stores, M bytes spill loads" per kernel and architecture
  if grep -E '[1-9][0-9]* bytes spill (stores|loads)' "$report" >/dev/null; then
    grep -B3 -E '[1-9][0-9]* bytes spill (stores|loads)' "$report" >&2
    echo "[kernels] $cu spills registers to local memory (see above, full report: $report)" >&2
    rm -f "$fatbin"
    return 1
  fi
  echo "[kernels] built $name.fatbin ($(stat -c %s "$fatbin") bytes), report: $report"
}

status=0
for cu in "$src"/*.cu; do
  [ -e "$cu" ] || continue
  build_one "$cu" || status=1
done
# zstd_probe.fatbin: elementwise.cu once more, its images compressed by --compress-mode=size. Every family so would
# pack 2.2 MB smaller in the bundle (4.69 -> 2.51 MB, measured 2026-11-28; the bundle is at 39.3 of its 40 MB), and
# CUDA 13's fatbins of any compression need the driver its kernels need anyway (580 or later), but no GPU has loaded
# one of ours yet: CompressedFatbinGpuTest loads and runs this one first. Not a family: nothing else loads it.
build_one "$src/elementwise.cu" zstd_probe --compress-mode=size || status=1
exit $status
