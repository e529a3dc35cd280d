#!/usr/bin/env bash
# tools/gpu_session.sh [--dry-run] OUTDIR
#
# One command for a short visit to a GPU machine that has no Java (a lent H100/H200 with nvcc, PyTorch and
# compute-sanitizer, no network): the GPU checks and benchmarks in order of risk, each bounded by `timeout`, going
# on past failures, the whole within a budget of 570 s (GPU_SESSION_BUDGET), 9.5 minutes. Run from anywhere;
# it works in the repository root. At most 8 files in OUTDIR:
#   summary.txt     one line a step: status (ok, FAIL, TIMEOUT, SKIP, NOT-RUN, no-GPU), seconds, the numbers that
#                   matter; rewritten after every step, so a visit cut short still leaves one; printed at the end
#   checks.log      1 ecar info --check, 2 the GPU tests, 4 ecar generate --backend cuda on the tiny presets
#   sanitizers.log  3 compute-sanitizer memcheck, racecheck, synccheck, initcheck over KernelSmoke
#   compare.txt     5 ecar compare --backend cuda, 256², batch 1 and 64, beside what it writes: compare.png and
#   compare.png       compare.json (or compare-b1.png and compare-b64.png from an ecar that takes one --batch);
#   compare.json      text files past these three are appended to compare.txt
#   bench.log       6 JMH GemmBench, AttentionGpuBench, FlowStepGpuBench, LaunchGapGpuBench, NormPrologueGpuBench (short settings), tools/gemm_bench.py and
#                     tools/sdpa_bench.py --quick
#   torch.log       7 tools/torch_pipelines.py --quick --batch 1,64, the PyTorch peer of compare
#
# Here (a JDK 25, Maven):  ./ecar bundle && tools/gpu_kit.sh
# There, with the device tool:
#   command    bash tools/gpu_session.sh "$OUT"
#   carry      ["dist/ecar-runtime-linux-x86_64.tar.gz", "dist/gpu-kit"]
#   timeout_s  600          (the script stops itself within its budget; the rest is start-up and slack)
# The bundle is unpacked into dist/ when dist/ecar-runtime is missing or older than the tarball.
#
# Caps (seconds; each also cut to what is left of the budget, and a step with under 10 s left is NOT-RUN):
#   unpack 60 | 1 info --check 60 | 2 tests 180 | 3 sanitizers 90 a tool, the four at once | 4 generate 30 a preset |
#   5 compare 180 for both batch sizes | 13 settings A/B 180 | 6 JMH 120, each PyTorch benchmark 45 | 7 torch pipelines 120
# GPU_SESSION_STEPS (default "1 2 3 4 5 12 13 6 11 7") names the steps to run; the others are NOT-RUN in the summary.
# Step 12, right after 5: ecar profile's device time per op for ECAR-L, DiT-XL/2 and ARPG-L at batch 1 and ECAR-L at
# batch 64 (cap 120 s, bench.log). Step 13, after 12: compare again with one kernel setting flipped at a time (the
# features not yet measured: programmatic launch, norm prologues, gemm_skinny's split, clusters, pair stores; cap
# 180 s, compare.txt), a line each.
# Step 11, seven GEMMs with row stores (the default), pair stores, no output and in clusters (GemmBench's -pairs,
# -nostore and sm90cluster paths, cap 120 s, bench.log), runs right after 6 and before 7 (last: PyTorch's peer of
# compare, which two visits have measured, is what a visit cut short loses). Three more run only when named: 8, tools/torch_pipelines.py --compile (cap
# 240 s); 9, ncu on one launch each of gemm_sm90 (qkv, and fc1 + GELU by source line), gemm_sm90c and attention_sm90 (cap 90 s each; profile.log); 10, device time per
# kernel over one generation of ECAR-L at batch 1 and 64 and DiT-XL/2 at 10 steps (ncu, cap 120 s each; tables from
# tools/kernel_times.py in profile.log).
# Their sum is over the budget on purpose: they bound hangs. On an H100 (2026-11-27) steps 1-7 took 450 s; step 11
# adds about 45 s. 8 files is what the device tool brings back from $OUT.
# --dry-run runs nothing and writes nothing: it prints each command with its cap, then the (empty) summary.
set -u

usage() { echo "usage: $0 [--dry-run] OUTDIR   (see the header of $0)" >&2; exit 2; }
dry=0
if [ "${1:-}" = --dry-run ]; then dry=1; shift; fi
[ $# -eq 1 ] && [ -n "$1" ] || usage
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $dry = 1 ]; then out=$tmp/out; else out=$1; fi
mkdir -p "$out" && out=$(cd "$out" && pwd) || exit 1   # before the cd: a relative OUTDIR is the caller's
cd "$(dirname "$0")/.." || exit 1

budget=${GPU_SESSION_BUDGET:-570}
# the steps to run (a second, shorter visit reruns what a fix touched): GPU_SESSION_STEPS="2 5" runs 0, 2 and 5
steps="0 ${GPU_SESSION_STEPS:-1 2 3 4 5 12 13 6 11 7}"
deadline=$((SECONDS + budget))
cap_unpack=60 cap_info=60 cap_tests=180 cap_sanitizer=90 cap_generate=30 cap_compare=180 cap_jmh=120 cap_pybench=45 cap_torch=120
cap_compile=240 cap_ncu=90 cap_ktimes=120 cap_dprof=120 cap_ab=180
# compare runs each model once after its warm-up (the GPU default is 3): DiT-XL/2 at batch 64 is 7.6 PFLOP a run
compare_repeats=${COMPARE_REPEATS:-1}
# one JVM for all JMH benchmarks (-f 0; GemmBench counts 22 shapes × 3 paths, the forced-sm90 ones skipping at once where wgmma already runs it; AttentionGpuBench 4 shapes × 5 kernels): a fork each would spend about a minute
# on JVM and CUDA start-ups
jmh_quick=(-f 0 -wi 1 -w 200ms -i 3 -r 200ms)
max_files=8

for f in summary.txt checks.log sanitizers.log compare.txt compare.png compare.json compare.csv compare-b1.png compare-b64.png bench.log torch.log; do
  rm -f "${out:?}/$f"   # this script's own files from an earlier run, nothing else
done
export XDG_CACHE_HOME=$tmp/cache   # the self-check's verdict: judged afresh on every visit, nothing left behind
export PYTHONUNBUFFERED=1          # Python's lines reach the logs as they are printed, also when a timeout strikes
ecar=dist/ecar-runtime/ecar
kit=dist/gpu-kit/run.sh
tarball=dist/ecar-runtime-linux-x86_64.tar.gz

say() { echo "[gpu-session] $*"; }

# bounded CAP LOG CMD...: CMD with stdin closed, its output appended to LOG (and copied to $last for parsing), stopped
# after CAP seconds, at the step's end or at the session's deadline, whichever comes first. timeout signals CMD's
# whole process group, so JVMs under compute-sanitizer and JMH's forks go too; -k 5: a KILL 5 s after the TERM.
# Returns CMD's exit code: 124/137 for a timeout, 125 when under 10 s were left to start it.
last=$tmp/last.out
bounded() {
  local cap=$1 log=$2 left
  shift 2
  case " $steps " in
    *" ${step_title%% *} "*) ;;
    *) echo "[gpu-session] not run: step ${step_title%% *} is not in GPU_SESSION_STEPS ($steps): $*" | tee "$last" >> "$log"; return 125 ;;
  esac
  left=$((deadline - SECONDS - 5))
  [ "$((step_end - SECONDS))" -lt "$left" ] && left=$((step_end - SECONDS))
  [ "$cap" -le "$left" ] || cap=$left
  : > "$last"
  if [ "$cap" -lt 10 ]; then
    echo "[gpu-session] not run: the session's budget is spent: $*" | tee "$last" >> "$log"
    return 125
  fi
  echo "\$ $* (timeout ${cap}s)" >> "$log"
  if [ $dry = 1 ]; then say "would run (cap ${cap}s): $*"; return 0; fi
  timeout -k 5 "$cap" "$@" < /dev/null > "$last" 2>&1
  local rc=$?
  cat "$last" >> "$log"
  echo "[gpu-session] exit $rc" >> "$log"
  return $rc
}

# ---------------------------------------------------------------------------------------------------- the summary
asked() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }   # asked N: step N is in GPU_SESSION_STEPS
lines=()      # one entry a finished step (its extra lines indented below it)
nogpu=""      # why there is no GPU, when step 1 found none: later steps then say no-GPU instead of ok/FAIL
begin() {     # begin TITLE CAP: a step starts; the summary says so, in case the visit ends during it
  step_title=$1 step_t0=$SECONDS step_end=$((SECONDS + $2))
  say "$1 (cap $2 s)"
  write_summary "running: $1 (cap $2 s, started at $((SECONDS - t_start)) s)"
}
finish() {    # finish STATUS DETAIL [EXTRA LINE...]; a step not in GPU_SESSION_STEPS is NOT-RUN, whatever it found
  local status=$1 detail=$2 l
  shift 2
  if ! asked "${step_title%% *}"; then status=NOT-RUN detail="not in GPU_SESSION_STEPS ($steps)"; set --; fi
  lines+=("$(printf '%-18s %-8s %4ss  %s' "$step_title" "$status" "$((SECONDS - step_t0))" "$detail")")
  for l in "$@"; do [ -n "$l" ] && lines+=("    $l"); done
  write_summary ""
}
write_summary() {
  {
    echo "gpu session $started on $(hostname): GPU ${gpu:-none}"
    echo "bundle: $(sed -n 's/^built *//p' dist/ecar-runtime/BUNDLE.txt 2>/dev/null || echo '?')$([ $dry = 1 ] && echo '   [dry run: nothing was run]')"
    printf '%-18s %-8s %5s  %s\n' step status time result
    local l
    for l in "${lines[@]}"; do echo "$l"; done
    [ -n "$1" ] && echo "$1"
    echo "elapsed $((SECONDS - t_start)) s of a $budget s budget; files in OUTDIR: $(find "$out" -maxdepth 1 -type f | wc -l) (at most $max_files)"
  } > "$out/summary.txt"
}
# status RC...: the worst of the exit codes as a word
status() {
  [ $dry = 1 ] && { echo dry; return; }
  local rc word=ok
  for rc in "$@"; do
    case $rc in
      0) ;;
      124|137) word=TIMEOUT ;;
      125) [ $word = ok ] && word=NOT-RUN ;;
      *) [ $word != TIMEOUT ] && word=FAIL ;;
    esac
  done
  if [ -n "$nogpu" ] && { [ $word = ok ] || [ $word = FAIL ]; }; then word=no-GPU; fi
  echo $word
}
squeeze() { tr -s ' \t' ' ' | cut -c1-"${1:-160}"; }
# the line of the last command's output that says what went wrong: ecar's own last word ("ecar: ..."; its first
# such lines describe the run), else the first exception or error, else the last line
first_error() {
  { grep -E '^ecar: ' "$last" | tail -1; grep -m1 -E 'Error|Exception|error:|FATAL' "$last"; tail -1 "$last"; } | head -1 | squeeze 140
}

t_start=$SECONDS
step_end=$deadline
gpu=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -2 | paste -sd';' -)
command -v nvidia-smi > /dev/null || gpu="none (no nvidia-smi)"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
say "GPU: ${gpu:-none}"

# ---------------------------------------------------------------------------------------------------- 0 the bundle
begin "0 bundle" $cap_unpack
if [ -f "$tarball" ] && { [ ! -x dist/ecar-runtime/runtime/bin/java ] || [ "$tarball" -nt dist/ecar-runtime/.unpacked ]; }; then
  [ $dry = 1 ] || rm -rf dist/ecar-runtime   # a stale jar left from an older bundle would join lib/* on the class path
  bounded $cap_unpack "$out/checks.log" tar xzf "$tarball" -C dist
  rc=$?
  [ $rc = 0 ] && [ $dry = 0 ] && touch dist/ecar-runtime/.unpacked
  finish "$(status $rc)" "unpacked $tarball ($(du -h "$tarball" | cut -f1))"
elif [ -x dist/ecar-runtime/runtime/bin/java ]; then
  finish ok "dist/ecar-runtime already unpacked"
else
  finish FAIL "no $tarball: build it here with ./ecar bundle && tools/gpu_kit.sh, and carry it"
fi
[ -f "$kit" ] || lines+=("    no $kit: steps 2, 3 and 6 cannot run (tools/gpu_kit.sh here, then carry dist/gpu-kit)")

# ---------------------------------------------------------------------------------------------------- 1 self-check
begin "1 info --check" $cap_info
bounded $cap_info "$out/checks.log" "$ecar" info --check
rc=$?
nogpu=$(sed -n 's/^gpu  *none: //p' "$last" | head -1)
gpus=$(grep -E '^gpu [0-9]' "$last" | sed 's/^gpu [0-9]* *//' | paste -sd';' -)
check=$(sed -n 's/^selfcheck  *//p' "$last" | sed 's/ \[.*//')
fallback=()
# The settings that turn off what was written without a GPU since the last visit (2026-11-28: the skinny kernel's K
# split and block rows; the cooperative consumers, its default since; the row stores, whose epilogue was rewritten):
# if the self-check fails as built and passes with them, the rest of the visit runs so, so that compare and the
# benchmarks still measure something; the GPU tests (step 2) and the sanitizers still run the build as it is and say
# what broke.
fallback_env=(ECAR_GEMM_SKINNY=plain ECAR_GEMM_SMALL=mma.sync ECAR_GEMM_STORES=pairs)
fallback_vars=$(printf '%s\n' "${fallback_env[@]}" | sed 's/=.*//')
unset_fallback=()
for v in $fallback_vars; do unset_fallback+=(-u "$v"); done
if [ -z "$nogpu" ] && [ $rc != 0 ] && [ $dry = 0 ] && [ -z "$(env | grep -E "^($(echo $fallback_vars | tr ' ' '|'))=")" ] && echo "${check:-}" | grep -q failed; then
  bounded $cap_info "$out/checks.log" env "${fallback_env[@]}" "$ecar" info --check
  if [ $? = 0 ]; then
    export "${fallback_env[@]}"
    fallback=("the self-check failed as built and passed with ${fallback_env[*]}: the rest of this visit runs so")
  fi
fi
if [ -n "$nogpu" ]; then
  finish no-GPU "$(echo "no GPU: $nogpu" | squeeze)"
else
  finish "$(status $rc)" "$(echo "${gpus:-?}; self-check ${check:-$(first_error)}" | squeeze 200)" "${fallback[@]}"
fi

# ---------------------------------------------------------------------------------------------------- 2 GPU tests
begin "2 gpu tests" $cap_tests
if [ -f "$kit" ]; then
  bounded $cap_tests "$out/checks.log" env "${unset_fallback[@]}" "$kit" tests   # as built, even after a fallback
  rc=$?
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$last" | tail -1)
  why=$(sed -n 's/^SKIPPED [^:]*: //p' "$last" | sort | uniq -c | sort -rn | head -1 | sed 's/^ *\([0-9]*\) /\1 skipped: /' | squeeze 120)
  failed=$(sed -n 's/^FAILED .*\[class:\([^]]*\)\].*\[\(method\|test-template\):\([^](]*\).*/\1.\3/p' "$last" | sed 's/^ecar\.cuda\.//' | sort -u)
  finish "$(status $rc)" "${counts:-no count (exit $rc): $(first_error)}" \
    "${failed:+failed: $(echo "$failed" | head -12 | paste -sd' ' -)}" "${why:+$why}"
else
  finish NOT-RUN "no $kit"
fi

# ---------------------------------------------------------------------------------------------------- 3 sanitizers
begin "3 sanitizers" $((cap_sanitizer + 15))
if [ -f "$kit" ]; then
  # run.sh bounds each tool; keep its bound inside this step's and the budget's (timeout cannot reach the inner
  # timeouts' own process groups)
  per=$((deadline - SECONDS - 25))
  [ $per -gt $cap_sanitizer ] && per=$cap_sanitizer
  rm -rf "$tmp/san"
  : > "$tmp/san.log"
  if [ $per -ge 10 ]; then   # (timeout 0 would mean no limit at all)
    bounded $((per + 15)) "$tmp/san.log" env "${unset_fallback[@]}" SANITIZE_TIMEOUT=$per SANITIZE_LOGS="$tmp/san" "$kit" sanitize
    rc=$?
  else
    echo "[gpu-session] not run: the session's budget is spent" > "$tmp/san.log"
    rc=125
  fi
  {
    cat "$tmp/san.log"
    for f in "$tmp"/san/sanitizer-*.log; do [ -f "$f" ] && { echo; echo "==== $(basename "$f")"; cat "$f"; }; done
  } > "$out/sanitizers.log"
  verdicts=$(sed -n 's/^sanitize \([a-z]*\): \(.*\) (exit [^,]*, \([0-9?]*\) s).*/\1 \2 \3s/p' "$tmp/san.log" | paste -sd',' - | sed 's/,/, /g')
  if [ $rc = 3 ]; then finish SKIP "$(head -1 "$last" | squeeze)"
  elif grep -q '^sanitize [a-z]*: timed out' "$tmp/san.log"; then finish TIMEOUT "$verdicts"
  else finish "$(status $rc)" "${verdicts:-exit $rc: $(first_error)}"; fi
else
  finish NOT-RUN "no $kit"
fi

# ---------------------------------------------------------------------------------------------------- 4 tiny presets
models="dit-tiny flowar-tiny ecar-tiny ecar-tiny-v2"
begin "4 generate tiny" $((5 * cap_generate))
# arpg-tiny once the build has it (ecar flops --model list prints the presets)
bounded 30 "$tmp/presets.log" "$ecar" flops --model list && awk '{print $1}' "$last" | grep -qx arpg-tiny && models="$models arpg-tiny"
rcs=() results=() errors=()
for m in $models; do
  bounded $cap_generate "$out/checks.log" "$ecar" generate --model "$m" --backend cuda --class 1,3 --seed 5 --out "$tmp/$m.png"
  rc=$?
  rcs+=("$rc")
  if [ $rc = 0 ]; then results+=("$m $(sed -n 's/.*(2 images, \(.*\))$/\1/p' "$last" | head -1)")
  else results+=("$m exit $rc"); errors+=("$(first_error)"); fi
done
finish "$(status "${rcs[@]}")" "$(printf '%s; ' "${results[@]}" | sed 's/; $//')" "$(printf '%s\n' "${errors[@]}" | sort -u | head -3)"

# ---------------------------------------------------------------------------------------------------- 5 compare
begin "5 compare" $cap_compare
cmp=("$ecar" compare --backend cuda --image-size 256 --repeats "$compare_repeats")
bounded $cap_compare "$out/compare.txt" "${cmp[@]}" --batch 1,64 --out "$out/compare.png"
rcs=($?)
batches="--batch 1,64"
# an ecar that takes a single --batch rejects the list as a usage error (picocli: exit 2, "Invalid value for option '--batch'")
if [ "${rcs[0]}" = 2 ] && head -3 "$last" | grep -q -- "'--batch'"; then
  echo "[gpu-session] this ecar takes one --batch: running --batch 1 and --batch 64" >> "$out/compare.txt"
  rcs=() batches="--batch 1, then --batch 64 (this ecar takes one)"
  for b in 1 64; do
    bounded $cap_compare "$out/compare.txt" "${cmp[@]}" --batch $b --out "$out/compare-b$b.png"
    rcs+=($?)
  done
fi
# keep compare at three files (compare.txt and two more) by appending extra text files to compare.txt
for f in "$out"/compare*.csv "$out"/compare*.json; do
  [ -f "$f" ] && [ "$(find "$out" -maxdepth 1 -name 'compare*' -type f | wc -l)" -gt 3 ] || continue
  { echo; echo "==== $(basename "$f") (appended: OUTDIR holds at most $max_files files)"; cat "$f"; } >> "$out/compare.txt"
  rm -f "$f"
done
# the table(s): from the "model" header to the "("vs" columns" note, each after its "ecar compare on" line
mapfile -t table < <(awk '/^ecar compare on /; /^model /,/^\("vs"/' "$out/compare.txt" | grep -v '^("vs"')
[ $dry = 1 ] && table=()
detail="$batches, --repeats $compare_repeats"
[ ${#table[@]} = 0 ] && detail="$detail: $(grep -h '^ecar: ' "$out/compare.txt" | sort -u | head -2 | paste -sd' ' - | squeeze 200)"
finish "$(status "${rcs[@]}")" "$detail" "${table[@]}"

# ---------------------------------------------------------------------------------------------------- 12 device profile (runs after 5)
# ecar profile on the GPU, whose table is device time per op (each op's kernels timed back to back behind a gate
# kernel, the host's launch gaps left out: CudaBackend.deviceTimer), for ECAR-L at batch 1, DiT-XL/2 at batch 1 with
# 10 steps and ARPG-L at batch 1: how much of a batch-1 image's latency is kernels, and which; then ECAR-L at batch 64,
# where no visit has yet said which ops hold the 0.53 s a batch that GEMM FLOPs at 550 TFLOP/s put near 0.22 s.
# A few seconds each (the batch-64 one about 15); tables in bench.log.
# Numbered 12, run right after 5.
begin "12 device profile" $cap_dprof
rcs=() lines12=()
for run in "ecar-l-b1|--model ecar-l" "dit-xl-2-b1-10steps|--model dit-xl-2 --steps 10" "arpg-l-b1|--model arpg-l" "ecar-l-b64|--model ecar-l --batch 64"; do
  name=${run%%|*}
  read -r -a gen <<< "${run#*|}"
  echo "==== $name: ecar profile ${gen[*]} --backend cuda (device time per op)" >> "$out/bench.log"
  bounded 60 "$out/bench.log" "$ecar" profile "${gen[@]}" --backend cuda --top 30
  rcs+=($?)
  lines12+=("$name: $(grep -h -m1 '^one generation' "$last" | squeeze 170)")
  lines12+=("  $(grep -h -m1 '^kernels:' "$last" | squeeze 120)")
  while IFS= read -r l; do lines12+=("  $l"); done < <(awk '/^op /{f=1; next} f && n < 6 {print; n++}' "$last" | squeeze 110)
done
finish "$(status "${rcs[@]}")" "ecar profile --backend cuda: device time per op" "${lines12[@]}"

# ---------------------------------------------------------------------------------------------------- 13 settings A/B (runs after 12)
# compare again with one kernel setting not at its default, beside step 5's run: what each feature written since the
# last visit gives end to end (each off by default until a visit measures it), most wanted first, each its own line
# under this step and its tables appended to compare.txt. Cap 180 s; GPU_SESSION_STEPS="13" reruns it alone (a second
# call, when a visit cut it short). ECAR_GEMM_SMALL=mma.sync is no longer run: the H100 of 2026-11-28 measured it.
begin "13 settings A/B" $cap_ab
ab=()
# one compare with ENV set: ab_run LABEL SECONDS ENV... -- ARGS...; its rows of MODELS (a regex) become a line
ab_run() {
  local label=$1 cap=$2 models=$3 rc rows
  local envs=()
  shift 3
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  echo "[gpu-session] $label, beside step 5's run" >> "$out/compare.txt"
  bounded "$cap" "$out/compare.txt" env "${envs[@]}" "${cmp[@]}" "$@"
  rc=$?
  rcs+=("$rc")
  rows=$(awk '/^model /,/^\("vs"/' "$last" | grep -E "^($models) " | paste -sd';' - | tr -s ' ')
  if [ -n "$rows" ]; then ab+=("$label: $rows"); else ab+=("$label: exit $rc: $(first_error)"); fi
}
rcs=()
cmp=("$ecar" compare --backend cuda --image-size 256 --repeats "$compare_repeats")
# programmatic dependent launch (each kernel scheduled while the one before it ends; 2026-11-28, unmeasured)
ab_run "ECAR_PDL=on" 75 'dit-xl-2|ecar-l|arpg-l' ECAR_PDL=on -- --models dit-xl-2,ecar-l,arpg-l --batch 1 --out "$tmp/pdl.png"
# norms in the skinny GEMMs' prologues (a norm_rows launch fewer for each norm before a GEMM of up to 8 rows)
ab_run "ECAR_NORM_PROLOGUE=on" 60 'ecar-l|arpg-l' ECAR_NORM_PROLOGUE=on -- --models ecar-l,arpg-l --batch 1 --out "$tmp/norm-prologue.png"
# gemm_skinny as the 2026-11-28 visit ran it (no K split, 17 to 63 rows on gemm.cu's tiles): what the split gives
ab_run "ECAR_GEMM_SKINNY=plain" 60 'ecar-l|arpg-l' ECAR_GEMM_SKINNY=plain -- --models ecar-l,arpg-l --batch 1 --out "$tmp/skinny-plain.png"
# clusters of two CTAs sharing W by multicast (gemm_sm90c), at batch 64
ab_run "ECAR_GEMM_CLUSTER=on" 60 'ecar-l' ECAR_GEMM_CLUSTER=on -- --models ecar-l --batch 64 --out "$tmp/cluster.png"
# pair stores against the row stores' rewritten activation loop (e2534ca), at batch 64
ab_run "ECAR_GEMM_STORES=pairs" 60 'ecar-l' ECAR_GEMM_STORES=pairs -- --models ecar-l --batch 64 --out "$tmp/pairs.png"
[ $dry = 1 ] && ab=()
finish "$(status "${rcs[@]}")" "compare with one setting flipped (step 5's run is the default)" "${ab[@]}"

# ---------------------------------------------------------------------------------------------------- PyTorch here?
torch_ok() {  # caches the answer (in $tmp/torch.txt: the version, or why not); the import alone takes seconds
  if [ -z "${torch_seen:-}" ]; then
    torch_seen=no
    bounded 60 "$tmp/probe.log" python3 -c 'import torch; print("torch", torch.__version__, "with CUDA" if torch.cuda.is_available() else "without CUDA")'
    case $? in
      0) torch_seen=yes ;;
      125) unset torch_seen; return 1 ;;   # a step not asked for: probe again in the next one
    esac
    cp "$last" "$tmp/torch.txt"
    [ $dry = 1 ] && echo "torch (dry run)" > "$tmp/torch.txt"
  fi
  [ "$torch_seen" = yes ]
}
# the "[pipeline NAME batch B] ... ms per generation ..." lines of tools/torch_pipelines.py in the last output, shortened
pipeline_lines() {
  sed -n 's/^\[pipeline \(.*\)\] \(.*\) ms per generation, .* ms per image, \(.*\) images\/s (median of [0-9]*)\(.*\)/\1: \2 ms, \3 images\/s\4/p' "$last"
}
no_torch() { echo "python3 cannot import torch: $(tail -1 "$tmp/torch.txt" | squeeze 100)"; }
not_asked() { echo "not in GPU_SESSION_STEPS ($steps)"; }

# ---------------------------------------------------------------------------------------------------- 6 benchmarks
begin "6 benchmarks" $((cap_jmh + 2 * cap_pybench))
if ! asked 6; then finish NOT-RUN "$(not_asked)"; else
rcs=()
: > "$tmp/ours.out"; : > "$tmp/torch.out"
if [ -f "$kit" ]; then
  bounded $cap_jmh "$out/bench.log" "$kit" bench "${jmh_quick[@]}" 'GemmBench|AttentionGpuBench|FlowStepGpuBench|LaunchGapGpuBench|NormPrologueGpuBench'
  rcs+=($?)
  cp "$last" "$tmp/ours.out"
else
  echo "no $kit: JMH not run" >> "$out/bench.log"
  rcs+=(125)
fi
torch_lines=()
if torch_ok; then
  for py in gemm_bench sdpa_bench; do
    bounded $cap_pybench "$out/bench.log" python3 "tools/$py.py" --quick
    rc=$?
    rcs+=("$rc")
    cat "$last" >> "$tmp/torch.out"
    [ $rc = 0 ] || torch_lines+=("$py.py: exit $rc: $(tail -1 "$last" | squeeze 120)")
  done
else
  torch_lines=("$(no_torch)")
fi
mapfile -t table < <(awk -f tools/bench_table.awk side=ours "$tmp/ours.out" side=torch "$tmp/torch.out")
# LaunchGapGpuBench: µs a dependent launch in a graph, ECAR_PDL off and on side by side; NormPrologueGpuBench: µs a
# norm + skinny GEMM, two launches or one (ECAR_NORM_PROLOGUE)
mapfile -t gaps < <(grep -E '^(add|skinny) +ECAR_PDL=|^norm\+linear ' "$tmp/ours.out" | sed 's/ (.*//')
[ $dry = 1 ] && table=() gaps=()
finish "$(status "${rcs[@]}")" "JMH ${jmh_quick[*]}; PyTorch: $(if torch_ok; then head -1 "$tmp/torch.txt"; else echo not run; fi)" "${torch_lines[@]}" "${table[@]}" "${gaps[@]}"
fi

# ---------------------------------------------------------------------------------------------------- 11 GEMM epilogue (runs after 6)
# Five batch-64 GEMM shapes (two with the GELU and GATE_PAIRS epilogues) and two batch-1 shapes on both kernels, as
# usual (row stores; the sm90 paths force gemm_sm90 on ECAR-L's batch-1 shape, whose 96 tiles linear() gives gemm.cu;
# DiT-XL/2's batch-1 fc1 has 144 tiles for 132 SMs, where ping-pong leaves most CTAs one consumer idle; and
# sm90coop runs it with cooperative consumers on every shape, sm90cluster in clusters of two CTAs sharing W's tile by
# multicast, with and without its output), with pair stores on gemm_sm90 (-pairs, GemmKernels.withRowStores(false))
# and with the measurement-only DISCARD epilogue (-nostore, no output written): how much of each GEMM is its
# epilogue, and how much of that the row stores win back (on the H100 of 2026-11-27, gemm_sm90: 303 -> 581 TFLOP/s on
# DiT-XL/2's qkv, 631 with no output). The wide tile (sm90wide) and gemm.cu's and the sm90 path's pairs, measured on
# 2026-11-28, are left out for time. Lines in bench.log. Numbered 11, run right after 6 (before 7, whose PyTorch
# pipelines two visits have measured: a visit cut short loses those, not the new kernels' timings).
begin "11 gemm no-store" $cap_jmh
if [ -f "$kit" ]; then
  bounded $cap_jmh "$out/bench.log" "$kit" bench "${jmh_quick[@]}" -p path=wgmma,wgmma-pairs,wgmma-nostore,mma.sync,mma.sync-nostore,sm90,sm90coop,sm90cluster,sm90cluster-nostore \
    -p "shape=dit-xl-2 qkv 16384 1152 3456,dit-xl-2 fc1+gelu 16384 1152 4608,dit-xl-2 fc2 16384 4608 1152,ecar-l ar.fc1+gate-gelu 16384 1024 5460,ecar-l head.cond 16384 1024 1024,ecar-l-b1 head.qkv.s4 512 1024 3072,dit-xl-2-b1 fc1 512 1152 4608" GemmBench
  rc=$?
  mapfile -t table < <(grep -E '^\[gemm .*\] [0-9.]+ ms' "$last" | sed 's/ (median of.*//')
  finish "$(status $rc)" "GemmBench with -nostore paths" "${table[@]}"
else
  finish NOT-RUN "no $kit"
fi

# ---------------------------------------------------------------------------------------------------- 7 torch pipelines
begin "7 torch pipelines" $cap_torch
if ! asked 7; then
  finish NOT-RUN "$(not_asked)"
elif torch_ok; then
  bounded $cap_torch "$out/torch.log" python3 tools/torch_pipelines.py --quick --batch 1,64
  rc=$?
  mapfile -t table < <(pipeline_lines)
  finish "$(status $rc)" "$(head -1 "$tmp/torch.txt" 2>/dev/null)$( [ ${#table[@]} = 0 ] && echo "; $(tail -1 "$last" | squeeze 120)")" "${table[@]}"
else
  no_torch > "$out/torch.log"
  finish SKIP "$(no_torch)"
fi

# ---------------------------------------------------------------------------------------------------- 8 torch.compile (opt-in)
# Not in the default steps (compiling every block of four models takes minutes): GPU_SESSION_STEPS="5 8" puts the
# torch.compile peer beside compare, for the issue's "1.5x torch.compile" target.
begin "8 torch.compile" $cap_compile
if ! asked 8; then
  finish NOT-RUN "$(not_asked)"
elif torch_ok; then
  bounded $cap_compile "$out/torch.log" python3 tools/torch_pipelines.py --compile --quick --batch 1,64
  rc=$?
  mapfile -t table < <(pipeline_lines)
  finish "$(status $rc)" "torch.compile (blocks)$( [ ${#table[@]} = 0 ] && echo "; $(tail -1 "$last" | squeeze 120)")" "${table[@]}"
else
  finish SKIP "$(no_torch)"
fi

# ---------------------------------------------------------------------------------------------------- 9 ncu (opt-in)
# Not in the default steps: Nsight Compute on one launch of gemm_sm90 (DiT-XL/2's qkv at batch 64, then its fc1 with
# the GELU epilogue, with the stalls by source line), of the qkv GEMM in clusters of two sharing W (gemm_sm90c, ECAR_GEMM_CLUSTER's kernel) and of attention_sm90 (B 64, H 16, L 256,
# d 64), each after a few launches of warm-up: speed of light, memory (is the main loop bound by L2?), warp stalls,
# scheduler. GPU_SESSION_STEPS="9". The report goes to profile.log (appended to bench.log when 8 files are already out).
begin "9 ncu" $((4 * cap_ncu))
ncu_bin=$(command -v ncu || ls "${CUDA_HOME:-/usr/local/cuda}"/bin/ncu /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
if [ -z "$ncu_bin" ] || [ ! -f "$kit" ]; then
  finish SKIP "needs ncu (PATH, \$CUDA_HOME/bin) and $kit"
else
  plog=$out/profile.log
  [ "$(find "$out" -maxdepth 1 -type f | wc -l)" -ge $max_files ] && plog=$out/bench.log
  ncu_args=(--target-processes all --launch-skip 3 --launch-count 1 --section SpeedOfLight --section MemoryWorkloadAnalysis
            --section ComputeWorkloadAnalysis --section WarpStateStats --section SchedulerStats --section LaunchStats --section Occupancy)
  bounded $cap_ncu "$plog" "$ncu_bin" "${ncu_args[@]}" --kernel-name regex:gemm_sm90_bf16 \
    "$kit" bench -f 0 -wi 0 -i 1 -r 100ms -p path=wgmma -p "shape=dit-xl-2 qkv 16384 1152 3456" GemmBench
  rcs=($?)
  # DiT-XL/2's fc1 with its GELU epilogue ran at 282 TFLOP/s against the qkv's 542 (H100, 2026-11-28): where its warps
  # stall, by source line (SourceCounters; the fatbins carry -lineinfo)
  bounded $cap_ncu "$plog" "$ncu_bin" "${ncu_args[@]}" --section SourceCounters --kernel-name regex:gemm_sm90_bf16 \
    "$kit" bench -f 0 -wi 0 -i 1 -r 100ms -p path=wgmma -p "shape=dit-xl-2 fc1+gelu 16384 1152 4608" GemmBench
  rcs+=($?)
  bounded $cap_ncu "$plog" "$ncu_bin" "${ncu_args[@]}" --kernel-name regex:gemm_sm90c_bf16 \
    "$kit" bench -f 0 -wi 0 -i 1 -r 100ms -p path=sm90cluster -p "shape=dit-xl-2 qkv 16384 1152 3456" GemmBench
  rcs+=($?)
  bounded $cap_ncu "$plog" "$ncu_bin" "${ncu_args[@]}" --kernel-name regex:attention_sm90 \
    "$kit" bench -f 0 -wi 0 -i 1 -r 100ms -p kernel=sm90 -p seq=256 -p head=64 AttentionGpuBench
  rcs+=($?)
  sol=$(grep -E '^ *(Duration|Compute \(SM\) Throughput|Memory Throughput|DRAM Throughput|L2 Cache Throughput|L1/TEX Cache Throughput) ' "$plog" | awk '{$1=$1; print}' | paste -sd';' - | cut -c1-700)
  finish "$(status "${rcs[@]}")" "${sol:-no speed-of-light lines: $(first_error)}"
fi

# ---------------------------------------------------------------------------------------------------- 10 kernel times (opt-in)
# Not in the default steps: ecar profile's op-level table for ECAR-L at batch 1, then device time per kernel over one
# generation (ncu, one metric: no replay), for ECAR-L at batch 1 and 64 and DiT-XL/2 at batch 1 with 10 steps, sampling
# only, with the sampling graphs on as compare runs it; tools/kernel_times.py turns ncu's CSV into a table. ncu measures
# only the timed generation of `ecar profile` (a cuProfilerStart/Stop range; --profile-from-start off): on the H100
# (2026-11-27) ncu over a whole `ecar generate` of ECAR-L had not finished its first sampling step after 48 s, loading
# and the random weights' kernels included. All appended to profile.log (bench.log when 8 files are already out).
# GPU_SESSION_STEPS="10".
begin "10 kernel times" $((3 * cap_ktimes + 60))
if [ -z "$ncu_bin" ]; then
  finish SKIP "needs ncu (PATH, \$CUDA_HOME/bin)"
else
  plog=$out/profile.log
  [ ! -f "$plog" ] && [ "$(find "$out" -maxdepth 1 -type f | wc -l)" -ge $max_files ] && plog=$out/bench.log
  rcs=() firsts=()
  # first the op-level view from ecar itself (graphs off, each op's device time behind a gate kernel): seconds, no ncu
  bounded $cap_ktimes "$plog" "$ecar" profile --model ecar-l --backend cuda --top 30
  rcs+=($?)
  for run in "ecar-l-b1|--model ecar-l" "ecar-l-b64|--model ecar-l --batch 64" "dit-xl-2-b1-10steps|--model dit-xl-2 --steps 10"; do
    name=${run%%|*}
    read -r -a gen <<< "${run#*|}"
    csvf=$tmp/ncu-$name.csv
    bounded $cap_ktimes "$plog" "$ncu_bin" --csv --page raw --metrics gpu__time_duration.sum --target-processes all --profile-from-start off \
      --log-file "$csvf" "$ecar" profile "${gen[@]}" --backend cuda --keep-graphs --top 5
    rc=$?
    { echo "==== $name: ecar profile ${gen[*]} --backend cuda --keep-graphs (the timed generation: sampling, graphs on)"; python3 tools/kernel_times.py --top 20 "$csvf" 2>&1; } >> "$plog"
    rcs+=("$rc")
    firsts+=("$name: $(grep -h '^\[kernel times\]' "$plog" | tail -1 | sed 's/^\[kernel times\] //')")
  done
  finish "$(status "${rcs[@]}")" "tables in $(basename "$plog")" "${firsts[@]}"
fi

write_summary ""
say "done in $((SECONDS - t_start)) s; $out:"
ls -l "$out"
echo
cat "$out/summary.txt"
