package ecar.flops;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** An analytic count for one model and its sampling settings: per-forward components, then the whole pipeline. */
public final class FlopsReport {
    private final String title;
    private final List<Count> forward = new ArrayList<>();
    private final List<Count> pipeline = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private Count decode;

    FlopsReport(String title) {
        this.title = title;
    }

    void forward(String component, String detail, double macs) {
        forward.add(new Count(component, detail, 1, macs));
    }

    void pipeline(String component, String detail, double calls, double macsPerCall) {
        pipeline.add(new Count(component, detail, calls, macsPerCall));
    }

    void decode(String vae, double macs) {
        decode = new Count("VAE decode", vae, 1, macs);
    }

    /** Multiply-accumulates of the VAE decode of one image (0 when not counted): outside {@link #macsPerImage()}. */
    public double decodeMacs() {
        return decode == null ? 0 : decode.macs();
    }

    void note(String n) {
        notes.add(n);
    }

    public String title() {
        return title;
    }

    /** Components of one forward pass of the main network (DiT), or empty for stage-wise models. */
    public List<Count> forward() {
        return List.copyOf(forward);
    }

    public List<Count> pipeline() {
        return List.copyOf(pipeline);
    }

    public double forwardMacs() {
        return forward.stream().mapToDouble(Count::macs).sum();
    }

    /** Multiply-accumulates to generate one image with these settings (guidance doubling included). */
    public double macsPerImage() {
        return pipeline.stream().mapToDouble(Count::macs).sum();
    }

    public double flopsPerImage() {
        return 2 * macsPerImage();
    }

    public String format() {
        StringBuilder b = new StringBuilder(title).append('\n');
        if (!forward.isEmpty()) {
            b.append(String.format(Locale.ROOT, "%n  %-34s %14s %14s%n", "one forward pass (batch 1)", "GMAC", "GFLOP"));
            for (Count c : forward) {
                b.append(String.format(Locale.ROOT, "  %-34s %14.3f %14.3f  %s%n", c.component(), c.macs() / 1e9, c.flops() / 1e9, c.detail()));
            }
            b.append(String.format(Locale.ROOT, "  %-34s %14.3f %14.3f%n", "forward total", forwardMacs() / 1e9, 2 * forwardMacs() / 1e9));
        }
        b.append(String.format(Locale.ROOT, "%n  %-34s %10s %12s %14s%n", "per image", "calls", "GMAC/call", "GMAC"));
        for (Count c : pipeline) {
            b.append(String.format(Locale.ROOT, "  %-34s %10s %12.3f %14.2f  %s%n", c.component(), calls(c.calls()), c.macsPerCall() / 1e9, c.macs() / 1e9, c.detail()));
        }
        b.append(String.format(Locale.ROOT, "  %-34s %10s %12s %14.2f  = %.2f TFLOP per image%n", "total", "", "", macsPerImage() / 1e9, flopsPerImage() / 1e12));
        if (decode != null) {
            b.append(String.format(Locale.ROOT, "  %-34s %10s %12.3f %14.2f  %s (not in the total: the papers count the generator)%n",
                    decode.component(), "1", decode.macs() / 1e9, decode.macs() / 1e9, decode.detail()));
            b.append(String.format(Locale.ROOT, "  %-34s %10s %12s %14.2f  = %.2f TFLOP per image%n", "total with the VAE decode", "", "",
                    (macsPerImage() + decodeMacs()) / 1e9, 2 * (macsPerImage() + decodeMacs()) / 1e12));
        }
        for (String n : notes) b.append("  note: ").append(n).append('\n');
        return b.toString();
    }

    private static String calls(double c) {
        return c == Math.rint(c) ? Long.toString((long) c) : String.format(Locale.ROOT, "%.2f", c);
    }
}
