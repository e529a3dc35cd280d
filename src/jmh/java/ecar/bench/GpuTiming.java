package ecar.bench;

import ecar.cuda.CudaContext;
import ecar.cuda.CudaProbe;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.Event;
import ecar.cuda.Stream;

import java.util.ArrayList;
import java.util.List;

/**
 * CUDA-event timing for the GPU benchmarks: launches are timed on the device (events around a burst of launches
 * after warm-up), repeats are reduced to the median, and every result is printed beside the device's measured
 * ceilings. Without a GPU the benchmarks do nothing and say why.
 */
final class GpuTiming {
    private GpuTiming() {}

    /** Milliseconds per launch of {@code body} over a burst of {@code launches}, timed with events on the stream. */
    static float msPerLaunch(Stream s, Event a, Event b, int launches, Runnable body) {
        return msPerLaunch(s, a, b, launches, body, launches);
    }

    /** Milliseconds per launch where {@code calls} calls of {@code burst} (one replay of a captured burst, say) queue {@code launches} launches. */
    static float msPerLaunch(Stream s, Event a, Event b, int launches, Runnable burst, int calls) {
        a.record(s);
        for (int i = 0; i < calls; i++) burst.run();
        b.record(s);
        return b.elapsedSince(a) / launches;
    }

    static double median(List<Float> xs) {
        List<Float> sorted = new ArrayList<>(xs);
        sorted.sort(null);
        int n = sorted.size();
        if (n == 0) return Double.NaN;
        return n % 2 == 1 ? sorted.get(n / 2) : 0.5 * (sorted.get(n / 2 - 1) + sorted.get(n / 2));
    }

    private static volatile double copyGBs = -1;

    /** Device-to-device copy bandwidth (bytes read + written per second) on 1 GiB, median of 10: the memory ceiling. */
    static double copyCeilingGBs() {
        if (copyGBs >= 0) return copyGBs;
        CudaContext.get();
        long n = 512L << 20;
        try (DeviceBuffer src = DeviceBuffer.allocate(n, "copy ceiling src"); DeviceBuffer dst = DeviceBuffer.allocate(n, "copy ceiling dst");
             Stream s = new Stream(); Event a = new Event(); Event b = new Event()) {
            src.fill32(0x3f800000, s);
            List<Float> ms = new ArrayList<>();
            for (int r = 0; r < 12; r++) {
                float t = msPerLaunch(s, a, b, 5, () -> dst.copyFrom(src, n, s));
                if (r >= 2) ms.add(t);
            }
            copyGBs = 2.0 * n / (median(ms) * 1e-3) / 1e9;
        }
        return copyGBs;
    }

    /** Where the GEMM ceiling comes from: our GEMM's own benchmark and torch.matmul's, on the models' shapes. */
    static String gemmCeiling() {
        return "GEMM ceiling: ./ecar bench GemmBench, python3 tools/gemm_bench.py";
    }

    static String device() {
        CudaProbe.Device d = CudaContext.get().device();
        return d.name() + " (cc " + d.computeCapability() + ", " + d.multiprocessors() + " SMs)";
    }
}
