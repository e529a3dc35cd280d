package ecar.flops;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The multiply-accumulates one generation queued on a {@link CountingBackend}, per image: by region (the samplers'
 * named phases, in the order they ran) and by layer. FLOPs are 2 × MACs; elementwise work is not counted (matrix
 * products, attention and convolutions are all but all of it).
 */
public final class FlopsReport {
    private final String title;
    private final List<Count> regions = new ArrayList<>();
    private final List<Count> layers = new ArrayList<>();
    private final double stepMacs, evaluations;
    private Count decode;

    FlopsReport(String title, int images, Map<String, double[]> regionCounts, Map<String, Double> layerMacs, double stepMacs, double evaluations) {
        if (images <= 0) throw new IllegalArgumentException("a report for " + images + " images");
        this.title = title;
        for (var e : regionCounts.entrySet()) {
            double calls = e.getValue()[0] / images, macs = e.getValue()[1] / images;
            if (macs > 0) regions.add(new Count(e.getKey(), calls == 0 ? 1 : calls, calls == 0 ? macs : macs / calls));
        }
        for (var e : layerMacs.entrySet()) layers.add(new Count(e.getKey(), 1, e.getValue() / images));
        layers.sort(Comparator.comparingDouble(Count::macs).reversed());
        this.stepMacs = stepMacs / images;
        this.evaluations = evaluations / images;
    }

    /** The same report with the decoder's work for one image beside it (not in {@link #macsPerImage()}). */
    public FlopsReport withDecode(String what, double macs) {
        decode = new Count(what, 1, macs);
        return this;
    }

    public String title() {
        return title;
    }

    /** Per region, in the order the regions first ran; calls per image. */
    public List<Count> regions() {
        return List.copyOf(regions);
    }

    /** Per layer (block numbers folded), the largest first. */
    public List<Count> layers() {
        return List.copyOf(layers);
    }

    /** Multiply-accumulates to generate one image (guidance doubling included; the decode not). */
    public double macsPerImage() {
        return regions.stream().mapToDouble(Count::macs).sum();
    }

    public double flopsPerImage() {
        return 2 * macsPerImage();
    }

    /** Network evaluations per image: samples through the denoiser (DiT), the flow head (FlowAR, ECAR) or the decoder (ARPG). */
    public double evaluationsPerImage() {
        return evaluations;
    }

    /** Multiply-accumulates of one network evaluation of one sample (DiT-XL/2 at 256²: the paper's 118.6 G). */
    public double forwardMacs() {
        return evaluations == 0 ? 0 : stepMacs / evaluations;
    }

    /** Multiply-accumulates of the decode of one image (0 when not counted). */
    public double decodeMacs() {
        return decode == null ? 0 : decode.macs();
    }

    public String format() {
        StringBuilder b = new StringBuilder(title).append('\n');
        b.append(String.format(Locale.ROOT, "%n  %-44s %8s %12s %12s%n", "per image", "calls", "GMAC/call", "GMAC"));
        for (Count c : regions) {
            b.append(String.format(Locale.ROOT, "  %-44s %8s %12.3f %12.2f%n", c.component(), calls(c.calls()), c.macsPerCall() / 1e9, c.macs() / 1e9));
        }
        b.append(String.format(Locale.ROOT, "  %-44s %8s %12s %12.2f  = %.2f TFLOP per image%n", "total", "", "", macsPerImage() / 1e9, flopsPerImage() / 1e12));
        if (evaluations > 0) {
            b.append(String.format(Locale.ROOT, "  %s network evaluations per image (guidance doubling included), %.3f GMAC each%n",
                    calls(evaluations), forwardMacs() / 1e9));
        }
        if (decode != null) {
            b.append(String.format(Locale.ROOT, "  %-44s %8s %12.3f %12.2f  %s (not in the total: the papers count the generator)%n",
                    "decode", "1", decode.macs() / 1e9, decode.macs() / 1e9, decode.component()));
            b.append(String.format(Locale.ROOT, "  %-44s %8s %12s %12.2f  = %.2f TFLOP per image%n", "total with the decode", "", "",
                    (macsPerImage() + decodeMacs()) / 1e9, 2 * (macsPerImage() + decodeMacs()) / 1e12));
        }
        b.append(String.format(Locale.ROOT, "%n  %-44s %12s %8s%n", "by layer (block numbers folded)", "GMAC", "share"));
        double total = macsPerImage();
        for (Count c : layers) {
            b.append(String.format(Locale.ROOT, "  %-44s %12.2f %7.1f%%%n", c.component(), c.macs() / 1e9, 100 * c.macs() / total));
        }
        return b.toString();
    }

    private static String calls(double c) {
        return c == Math.rint(c) ? Long.toString((long) c) : String.format(Locale.ROOT, "%.2f", c);
    }
}
