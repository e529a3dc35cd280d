package ecar.cli;

import ecar.family.Preset;

import java.util.List;
import java.util.Locale;

/** One model's row of {@code ecar compare}. */
record CompareResult(String name, Preset preset, long parameters, double flopsPerImage, double latencySeconds, double imagesPerSecond,
                     double loadSeconds, int evaluations) {

    /** The table, with ratios against the first DiT row (or the first row). */
    static String table(List<CompareResult> rows, int batch) {
        CompareResult base = rows.stream().filter(r -> r.preset().family().id().equals("dit")).findFirst().orElse(rows.get(0));
        StringBuilder b = new StringBuilder();
        String head = "%-12s %-7s %9s %6s %9s %12s %11s %10s %11s %11s%n";
        b.append(String.format(Locale.ROOT, head, "model", "family", "params", "image", "net evals", "GFLOP/image", "s/batch", "images/s",
                "FLOPs vs", "latency vs"));
        b.append(String.format(Locale.ROOT, head, "", "", "", "", "", "", "(batch " + batch + ")", "", base.name(), base.name()));
        for (CompareResult r : rows) {
            b.append(String.format(Locale.ROOT, "%-12s %-7s %8.1fM %5d² %9d %12s %11s %10s %10.1fx %10.1fx%n", r.name(), r.preset().family().id(),
                    r.parameters() / 1e6, r.preset().imageSize(), r.evaluations(), sig(r.flopsPerImage() / 1e9), sig(r.latencySeconds()),
                    sig(r.imagesPerSecond()), base.flopsPerImage() / r.flopsPerImage(), base.latencySeconds() / r.latencySeconds()));
        }
        b.append("(\"vs\" columns: how many times fewer FLOPs / lower latency than ").append(base.name()).append(")\n");
        return b.toString();
    }

    /** Four significant digits without an exponent for the magnitudes a table shows. */
    static String sig(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }
}
