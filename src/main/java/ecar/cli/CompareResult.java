package ecar.cli;

import ecar.sample.Family;
import ecar.sample.Preset;

import java.util.List;
import java.util.Locale;

/** One model's row of {@code ecar compare}. */
record CompareResult(String name, Preset preset, long parameters, double flopsPerImage, double latencySeconds, double imagesPerSecond,
                     double loadSeconds, int evaluations) {

    /** The table, with ratios against the first DiT row (or the first row). */
    static String table(List<CompareResult> rows, int batch) {
        CompareResult base = rows.stream().filter(r -> r.preset().family() == Family.DIT).findFirst().orElse(rows.get(0));
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-10s %-7s %8s %6s %9s %12s %11s %9s %10s %10s%n", "model", "family", "params", "image",
                "net evals", "TFLOP/image", "s/batch", "images/s", "FLOPs vs", "latency vs"));
        b.append(String.format(Locale.ROOT, "%-10s %-7s %8s %6s %9s %12s %11s %9s %10s %10s%n", "", "", "", "", "", "", "(batch " + batch + ")",
                "", base.name(), base.name()));
        for (CompareResult r : rows) {
            b.append(String.format(Locale.ROOT, "%-10s %-7s %7.0fM %5d² %9d %12.3f %11.2f %9.3f %9.1fx %9.1fx%n", r.name(), r.preset().family().id(),
                    r.parameters() / 1e6, r.preset().imageSize(), r.evaluations(), r.flopsPerImage() / 1e12, r.latencySeconds(), r.imagesPerSecond(),
                    base.flopsPerImage() / r.flopsPerImage(), base.latencySeconds() / r.latencySeconds()));
        }
        b.append("(\"vs\" columns: how many times fewer FLOPs / lower latency than ").append(base.name()).append(")\n");
        return b.toString();
    }
}
