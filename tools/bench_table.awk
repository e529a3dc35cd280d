# Ours beside PyTorch, one line a shape, from the benchmarks' own output lines (tools/gpu_session.sh's summary):
#   awk -f tools/bench_table.awk side=ours OURS_LOG side=torch TORCH_LOG...
# OURS_LOG: the JMH run (GemmBench, AttentionGpuBench, FlowStepGpuBench print at tear-down); TORCH_LOG: the outputs of
# tools/gemm_bench.py and tools/sdpa_bench.py. POSIX awk (the GPU machines may have mawk). Lines read:
#   [gemm <model> <layer> MxKxN] <ms> ms, <T> TFLOP/s ...                             (both sides)
#   attention  <ours-mN|sdpa-NAME> B=.. H=.. L=.. d=.. median <ms> ms  <T> TFLOP/s ... (both sides)
#   flow_step  ours n=<N> median <ms> ms  <G> GB/s  = <P>% of the copy ceiling ...    (ours only)
# JMH's "[label] skipped: reason" lines are counted and their first reason printed.

# the number in the field just before the first field equal to unit ("TFLOP/s", "GB/s"), or "" when none
function before(unit,    i) {
    for (i = 2; i <= NF; i++) if ($i == unit) return $(i - 1)
    return ""
}

/^\[[^]]*\] skipped: / {
    skipped++
    if (why == "") { why = $0; sub(/^\[[^]]*\] skipped: /, "", why) }
    next
}

/^\[gemm / {
    key = $2 " " $3 " " $4
    sub(/\]$/, "", key)
    t = before("TFLOP/s")
    if (t == "") next
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    gemm[side, key] = t
    next
}

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
        printf "%-36s %9s %9s %7s\n", "gemm MxKxN (TFLOP/s)", "ours", "torch", "ratio"
        for (i = 1; i <= n; i++) {
            k = order[i]
            o = ((("ours", k) in gemm) ? gemm["ours", k] : "-")
            p = ((("torch", k) in gemm) ? gemm["torch", k] : "-")
            r = (o != "-" && p != "-" && p + 0 > 0) ? sprintf("%.2f", o / p) : "-"
            printf "%-36s %9s %9s %7s\n", k, o, p, r
        }
    }
    for (i = 1; i <= an; i++) printf "attention %s (TFLOP/s): %s\n", aorder[i], att[aorder[i]]
    for (i = 1; i <= nflow; i++) print flow[i]
    if (skipped > 0) printf "%d JMH benchmarks skipped: %s\n", skipped, why
    if (n + an + nflow + skipped == 0) print "no benchmark lines in the logs"
}
