package ecar.cli;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code compare} table: a row per model and batch size. What a model is and costs per image (family,
 * parameters, network evaluations, FLOPs) is on its first row; latency, throughput and peak memory on every row, the
 * latency ratio against the baseline model at the same batch size.
 */
final class CompareTable {
    private CompareTable() {}

    private static final String ROW = "%-12s %-6s %8s %9s %11s %6s %10s %10s %15s %11s %9s %10s%n";

    static String format(CompareRun run) {
        CompareResult base = run.baseline();
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, ROW, "model", "family", "params", "net evals", "GFLOP/image", "batch", "s/batch", "images/s",
                "TFLOP/s", "peak memory", "FLOPs vs", "latency vs"));
        b.append(String.format(Locale.ROOT, ROW, "", "", "", "", "", "", "", "", "", "", base.name(), base.name()));
        for (CompareResult r : run.results()) {
            boolean first = true;
            for (BatchMeasurement m : r.batches()) {
                b.append(row(r, m, base, first, run.peakTeraflops()));
                first = false;
            }
        }
        return b.toString();
    }

    private static String row(CompareResult r, BatchMeasurement m, CompareResult base, boolean first, double peak) {
        ComparePlan.Model model = r.model();
        String family = first ? model.preset().family().id() : "";
        String params = !first ? "" : r.parameters() < 0 ? "?" : String.format(Locale.ROOT, "%.1fM", r.parameters() / 1e6);
        String evals = first ? Integer.toString(model.evaluations()) : "";
        String gflop = first ? sig(model.flopsPerImage() / 1e9) : "";
        String flopsVs = first ? ratio(base.model().flopsPerImage() / model.flopsPerImage()) : "";
        if (!m.isMeasured()) {
            return String.format(Locale.ROOT, "%-12s %-6s %8s %9s %11s %6d   %s%n", r.name(), family, params, evals, gflop, m.batch(),
                    "out of memory (below)");
        }
        BatchMeasurement baseAt = base.at(m.batch());
        String latencyVs = baseAt != null && baseAt.isMeasured() ? ratio(baseAt.latencySeconds() / m.latencySeconds()) : "—";
        return String.format(Locale.ROOT, ROW, r.name(), family, params, evals, gflop, m.batch(), sig(m.latencySeconds()), sig(m.imagesPerSecond()),
                tflops(m.teraflopsPerSecond(model.flopsPerImage()), peak), m.tracksMemory() ? bytes(m.peakMemoryBytes()) : "n/a", flopsVs, latencyVs);
    }

    /** What the columns mean, printed under the table. */
    static List<String> notes(CompareRun run) {
        List<String> notes = new ArrayList<>();
        notes.add("\"vs\" columns: how many times fewer FLOPs / lower latency than " + run.baseline().name() + " (latency at the same batch)");
        notes.add("s/batch: median wall time of one generation of the whole batch, class labels to sampled latents (VAE decode not included)");
        notes.add("FLOPs: counted by running each model on shapes, 2 × multiply-accumulates of every matrix product, attention and convolution, guidance doubling included (ecar flops --model NAME)");
        notes.add("TFLOP/s: achieved, FLOPs per image × images/s" + (Double.isNaN(run.peakTeraflops()) ? ""
                : String.format(Locale.ROOT, "; in brackets its share of the card's dense bf16 peak, %.0f TFLOP/s (data sheet)", run.peakTeraflops())));
        boolean tracked = run.results().stream().flatMap(r -> r.batches().stream()).anyMatch(BatchMeasurement::tracksMemory);
        notes.add(tracked
                ? "peak memory: the most device memory held at once in one generation: weights + KV caches + live activations, what the GPU must have free (reserved but unused arena space not counted)"
                : "peak memory: n/a, this backend does not track its memory (the CPU's tensors are Java arrays)");
        return notes;
    }

    /** Achieved TFLOP/s, with its share of the peak in brackets when the peak is known. */
    static String tflops(double achieved, double peak) {
        return Double.isNaN(peak) ? sig(achieved) : sig(achieved) + String.format(Locale.ROOT, " (%.0f%%)", 100 * achieved / peak);
    }

    private static String ratio(double r) {
        return String.format(Locale.ROOT, "%.1fx", r);
    }

    /** Four significant digits without an exponent for the magnitudes a table shows. */
    static String sig(double v) {
        return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
    }

    /** Binary units, four significant digits: "812.5 MiB", "11.27 GiB". */
    static String bytes(long n) {
        if (n < (1L << 20)) return sig(n / 1024.0) + " KiB";
        if (n < (1L << 30)) return sig(n / (double) (1L << 20)) + " MiB";
        return sig(n / (double) (1L << 30)) + " GiB";
    }
}
