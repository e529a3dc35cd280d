# Ours beside PyTorch, one line a shape, from the benchmarks' own output lines (tools/gpu_session.sh's summary):
#   awk -f tools/bench_table.awk side=ours OURS_LOG side=torch TORCH_LOG...
# OURS_LOG: the JMH run (GemmBench, AttentionGpuBench, FlowStepGpuBench print at tear-down); TORCH_LOG: the outputs of
# tools/gemm_bench.py and tools/sdpa_bench.py. POSIX awk (the GPU machines may have mawk). Lines read:
#   [gemm <model> <layer> MxKxN <path>] <ms> ms, <T> TFLOP/s ...                      (ours: path wgmma, mma.sync or sm90)
#   [gemm <model> <layer> MxKxN] <ms> ms, <T> TFLOP/s ...                             (torch; ours before the paths: mma.sync)
#   attention  <ours-mN|ours-sm90|sdpa-NAME> B=.. H=.. L=.. d=.. median <ms> ms  <T> TFLOP/s ... (both sides)
#   flow_step  ours n=<N> median <ms> ms  <G> GB/s  = <P>% of the copy ceiling ...    (ours only)
# JMH's "[label] skipped: reason" lines are counted and their first reason printed, except the forced-sm90 benchmarks
# that skip because the wgmma line already times gemm_sm90 on their shape (a column, not a failure).

# the number in the field just before the first field equal to unit ("TFLOP/s", "GB/s"), or "" when none
function before(unit,    i) {
    for (i = 2; i <= NF; i++) if ($i == unit) return $(i - 1)
    return ""
}

/^\[[^]]*\] skipped: linear\(\) already runs gemm_sm90/ { next }

/^\[[^]]*\] skipped: / {
    skipped++
    if (why == "") { why = $0; sub(/^\[[^]]*\] skipped: /, "", why) }
    next
}

/^\[gemm / {
    key = $2 " " $3 " " $4
    col = side
    if ($4 ~ /\]$/) {
        sub(/\]$/, "", key)
        if (side == "ours") col = "mma.sync"
    } else {
        col = $5
        sub(/\]$/, "", col)
    }
    t = before("TFLOP/s")
    if (t == "") next
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    gemm[col, key] = t
    next
}

function cell(col, key) { return (((col, key) in gemm) ? gemm[col, key] : "-") }
function ratio(a, b) { return (a != "-" && b != "-" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }

$1 == "attention" && $3 ~ /^B=/ {
    t = before("TFLOP/s")
    if (t == "") t = "n/a"
    key = $3 " " $4 " " $5 " " $6
    if (!(key in aseen)) { aseen[key] = 1; aorder[++an] = key }
    att[key] = att[key] (att[key] == "" ? "" : ", ") $2 " " t
    next
}

$1 == "flow_step" {
    pct = ""
    for (i = 2; i <= NF; i++) if ($i ~ /%$/) { pct = $i; break }
    flow[++nflow] = sprintf("flow step %-12s %8s GB/s  %s of the copy ceiling", $3, before("GB/s"), pct)
}

END {
    if (n > 0) {
        # sm90: gemm_sm90 forced where linear() takes another kernel (fewer than 64 rows or columns), else "-"
        printf "%-36s %9s %9s %9s %9s %11s %9s\n", "gemm MxKxN (TFLOP/s)", "wgmma", "mma.sync", "sm90", "torch", "wgmma/torch", "mma/torch"
        for (i = 1; i <= n; i++) {
            k = order[i]
            w = cell("wgmma", k); o = cell("mma.sync", k); f = cell("sm90", k); p = cell("torch", k)
            printf "%-36s %9s %9s %9s %9s %11s %9s\n", k, w, o, f, p, ratio(w, p), ratio(o, p)
        }
    }
    for (i = 1; i <= an; i++) printf "attention %s (TFLOP/s): %s\n", aorder[i], att[aorder[i]]
    for (i = 1; i <= nflow; i++) print flow[i]
    if (skipped > 0) printf "%d JMH benchmarks skipped: %s\n", skipped, why
    if (n + an + nflow + skipped == 0) print "no benchmark lines in the logs"
}
