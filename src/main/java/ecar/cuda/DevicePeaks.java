package ecar.cuda;

import java.util.List;
import java.util.Locale;

/**
 * The dense bf16 tensor-core peak of the GPUs we know, from their vendors' data sheets (no sparsity; fp32
 * accumulation), for "share of the card's peak" in compare. Matched on the device name the driver reports; NaN for a
 * card not in the list, rather than a guess.
 */
public final class DevicePeaks {
    private DevicePeaks() {}

    /** A name fragment (all must appear, case-insensitive) and the peak in TFLOP/s. */
    private record Entry(List<String> fragments, double teraflops) {}

    // The first match wins: the more specific names first.
    private static final List<Entry> PEAKS = List.of(
            new Entry(List.of("H100", "PCIE"), 756.0),
            new Entry(List.of("H100", "NVL"), 835.0),
            new Entry(List.of("H100"), 989.4),     // SXM5 (reported as "H100 80GB HBM3")
            new Entry(List.of("H200"), 989.4),
            new Entry(List.of("H800"), 989.4),
            new Entry(List.of("GH200"), 989.4),
            new Entry(List.of("A100"), 312.0),
            new Entry(List.of("A800"), 312.0),
            new Entry(List.of("L40S"), 362.05),
            new Entry(List.of("L4"), 121.0));

    /** The dense bf16 peak of the named device in TFLOP/s, or NaN when it is not in the list. */
    public static double bf16Teraflops(String deviceName) {
        String n = deviceName.toUpperCase(Locale.ROOT);
        for (Entry e : PEAKS) {
            if (e.fragments().stream().allMatch(f -> n.contains(f))) {
                if (e.fragments().equals(List.of("L4")) && !n.matches(".*\\bL4\\b.*")) continue;   // not L40, L40S
                return e.teraflops();
            }
        }
        return Double.NaN;
    }
}
