package ecar.bench;

import ecar.backend.Activation;
import ecar.cuda.CudaContext;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.TensorMapEncoder;
import ecar.cuda.ops.GemmKernels;
import ecar.cuda.ops.GemmPath;
import ecar.cuda.ops.Launcher;
import ecar.cuda.ops.Precision;
import ecar.io.Bf16;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Our bf16 GEMMs (bf16 output, no epilogue) on the linear layers of DiT-XL/2 and ECAR-L/FlowAR-L at batch 64, 256², and
 * the small-M shapes of batch 1 — the shapes of tools/gemm_bench.py, which times torch.matmul on them — as the backend
 * runs them on each {@link #path} (GemmKernels.linear): {@code wgmma} takes kernels/gemm_sm90.cu (TMA + wgmma; compute
 * capability 9.0 only) where its 128 × 128 tiles fill the SMs (GemmKernels.wgmmaTakes), and {@code mma.sync}
 * the tiles of kernels/gemm.cu; on both, up to 16 rows take kernels/gemm_skinny.cu and other small shapes gemm.cu. Each
 * benchmark call replays a burst of {@link #INNER} GEMMs, or one per copy of the inputs where there are more (inputs
 * rotated through copies that exceed the L2 cache), captured as one CUDA graph (GpuBench), between two CUDA events;
 * the median per-GEMM time and TFLOP/s are printed at tear-down in gemm_bench.py's format with the path added:
 * {@code [gemm <model> <layer> MxKxN <path>] <ms> ms, <TFLOP/s> TFLOP/s}. Without a GPU (or, for wgmma, without a
 * compute capability 9.0 device) it prints why and measures nothing. One run:
 * {@code java -jar target/benchmarks.jar GemmBench} beside {@code python3 tools/gemm_bench.py}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBench extends GpuBench {
    static final int B = 64, T = 256, M = B * T, INNER = 20;

    /**
     * model layer M K N, as tools/gemm_bench.py's SHAPES. A layer named with {@code +gelu} runs the GELU (tanh) epilogue
     * and one with {@code +gate-gelu} the GATE_PAIRS epilogue (GELU erf on the gates, FlowAR's gated MLP: N counts gate
     * and value rows, the output has N / 2 columns), as the models run those layers; the others store Y as it is.
     */
    @Param({
            "dit-xl-2 qkv 16384 1152 3456", "dit-xl-2 proj 16384 1152 1152", "dit-xl-2 fc1+gelu 16384 1152 4608",
            "dit-xl-2 fc2 16384 4608 1152", "dit-xl-2 adaLN 64 1152 6912", "dit-xl-2 final 16384 1152 32",
            "ecar-l ar.qkv 16384 1024 3072", "ecar-l ar.proj 16384 1024 1024", "ecar-l ar.fc1+gate-gelu 16384 1024 5460",
            "ecar-l ar.fc2 16384 2736 1024", "ecar-l ar.adaLN 64 1024 6144", "ecar-l head.input 16384 16 1024",
            "ecar-l head.cond 16384 1024 1024", "ecar-l head.adaLN-token 16384 1024 3072", "ecar-l head.final 16384 1024 16",
            // batch 1, guided: the flow head at stages 4, 3 and 1 (M = 2·r²), DiT-XL/2's MLP and ARPG-L's fc2 (6 rows, its
            // most frequent step), the small-M shapes of latency
            "ecar-l-b1 head.qkv.s4 512 1024 3072", "ecar-l-b1 head.fc2.s4 512 2736 1024", "ecar-l-b1 head.qkv.s3 128 1024 3072",
            "ecar-l-b1 head.fc2.s3 128 2736 1024", "ecar-l-b1 head.qkv.s2 32 1024 3072", "ecar-l-b1 head.qkv.s1 8 1024 3072",
            "dit-xl-2-b1 fc1 512 1152 4608", "arpg-l-b1 fc2 6 2816 1024"})
    public String shape;

    /**
     * Which GEMM path: wgmma (gemm_sm90.cu where it takes the shape), mma.sync (gemm.cu), or sm90: gemm_sm90 forced on the
     * shapes that linear() sends elsewhere (fewer tiles than SMs, or under 64 rows or columns: whether TMA + wgmma, with
     * K split where the tiles are few, beats the skinny kernel or the 64-row tiles there; the other shapes print that
     * the wgmma line already times it).
     */
    @Param({"wgmma", "mma.sync", "sm90"})
    public String path;
    private boolean forceSm90;
    /**
     * The {@code sm90coop} path ({@code -p path=sm90coop}): gemm_sm90 forced as on the sm90 path (K split where the
     * tiles are few), with its consumers sharing every unit (GemmKernels.withCooperative), for shapes whose CTAs get one
     * unit each.
     */
    private boolean cooperative;
    /**
     * The {@code sm90wide} path ({@code -p path=sm90wide}): gemm_sm90's 128 × 256 tile (gemm_sm90w, GemmKernels.withWideTiles)
     * forced on the shape as on the sm90 path, K split where its tiles are few; beside the wgmma line's 128 × 128 tiles.
     */
    private boolean wide;
    /**
     * The {@code sm90cluster} path ({@code -p path=sm90cluster}): gemm_sm90 in clusters of two CTAs sharing W's tile by
     * multicast (gemm_sm90c, GemmKernels.withClusters), forced as on the sm90 path; beside the wgmma line. Combines with
     * {@code -nostore}: whether the main loop gains what the saved L2 reads should give.
     */
    private boolean cluster;
    /**
     * Paths ending in {@code -nostore} (given with {@code -p path=wgmma-nostore,mma.sync-nostore}; not run by default)
     * time the same kernel with {@link GemmKernels.Post#DISCARD}: no output written, so that the time without the
     * epilogue shows how much of a GEMM the epilogue costs.
     */
    private boolean discard;
    /**
     * Paths with {@code -pairs} ({@code -p path=wgmma-pairs}): gemm_sm90 storing its outputs two at a time, as before row
     * stores became the default (GemmKernels.withRowStores).
     */
    private boolean pairs;

    private String model, layer;
    private int m, k, n;
    private GemmKernels gemm;
    private final List<DeviceBuffer> xs = new ArrayList<>(), ws = new ArrayList<>();
    private DeviceBuffer y, workspace;

    @Setup
    public void setup() {
        String[] p = shape.split(" ");
        model = p[0];
        layer = p[1];
        m = Integer.parseInt(p[2]);
        k = Integer.parseInt(p[3]);
        n = Integer.parseInt(p[4]);
        discard = path.endsWith("-nostore");
        String base = discard ? path.substring(0, path.length() - "-nostore".length()) : path;
        pairs = base.endsWith("-pairs");
        if (pairs) base = base.substring(0, base.length() - "-pairs".length());
        cooperative = base.equals("sm90coop");
        wide = base.equals("sm90wide");
        cluster = base.equals("sm90cluster");
        forceSm90 = base.equals("sm90") || cooperative || wide || cluster;
        GemmPath kind = forceSm90 ? GemmPath.WGMMA : GemmPath.of(base);
        String label = "gemm " + model + " " + layer + " " + m + "x" + k + "x" + n + " " + path;
        if (!open(label, kind == GemmPath.WGMMA ? "gemm_sm90" : "gemm")) return;
        var device = CudaContext.get().device();
        if (kind == GemmPath.WGMMA && !GemmPath.wgmmaRunsOn(device.major(), device.minor())) {
            skip = "gemm_sm90 is sm_90a code; " + device.name() + " has compute capability " + device.computeCapability();
            System.out.println("\n[" + label + "] skipped: " + skip);
            closeGpu();
            return;
        }
        if (forceSm90 && !cooperative && !wide && !cluster && m > GemmKernels.SKINNY_MAX_M && GemmKernels.wgmmaTakes(m, n, k, device.multiprocessors())) {
            skip = "linear() already runs gemm_sm90 on this shape (the wgmma line)";
            System.out.println("\n[" + label + "] skipped: " + skip);
            closeGpu();
            return;
        }
        // gemm_sm90 as linearSm90 runs it: K split into ranges where the tiles alone would leave SMs idle (the forced sm90 line)
        GemmKernels.Sm90.SplitK split = GemmKernels.Sm90.splitK(m, n, k, device.multiprocessors(), wide ? GemmKernels.Sm90.WIDE_BN : GemmKernels.Sm90.BN);
        if (kind == GemmPath.WGMMA && split.splits() > 1 && !cooperative) workspace = DeviceBuffer.allocate(4L * split.splits() * m * n, "split-K partial sums");
        GemmKernels.Scratch scratch = workspace == null ? null : (count, what) -> new GemmKernels.Scratch.Lease() {
            public ecar.cuda.DeviceAddress address() {
                return workspace;
            }

            public void close() {}
        };
        gemm = new GemmKernels(Launcher.on(stream), device.multiprocessors(), kind, kind == GemmPath.WGMMA ? TensorMapEncoder.DRIVER : null, scratch)
                .withRowStores(!pairs).withCooperative(cooperative).withWideTiles(wide).withClusters(cluster);
        long perCopy = 2L * ((long) m * k + (long) n * k);
        int copies = (int) Math.max(1, (L2_BYTES + perCopy - 1) / perCopy);
        for (int i = 0; i < copies; i++) {
            xs.add(random(2L * m * k, "x" + i, 1 + i));
            ws.add(random(2L * n * k, "w" + i, 100 + i));
        }
        y = DeviceBuffer.allocate(2L * m * n, "y");
    }

    /** A buffer of bytes/2 bf16 standard normals (uploaded a megabyte-sized block at a time). */
    private static DeviceBuffer random(long bytes, String label, long seed) {
        DeviceBuffer b = DeviceBuffer.allocate(bytes, label);
        SplittableRandom r = new SplittableRandom(seed);
        short[] block = new short[1 << 20];
        for (int i = 0; i < block.length; i++) block[i] = Bf16.fromFloat((float) r.nextGaussian());
        for (long off = 0; off < bytes; off += 2L * block.length) {
            long len = Math.min(2L * block.length, bytes - off);
            b.slice(off, len, label).upload(len == 2L * block.length ? block : java.util.Arrays.copyOf(block, (int) (len / 2)));
        }
        return b;
    }

    @Benchmark
    public void gemm() {
        if (skip != null) return;
        GemmKernels.Epilogue none = discard ? GemmKernels.Epilogue.discard() : epilogue(layer);
        int[] i = {0};
        time(Math.max(INNER, xs.size()), () -> {   // a burst (one graph) covers every copy of the inputs
            int c = i[0]++ % xs.size();
            if (forceSm90) gemm.linearSm90(y, Precision.BF16, xs.get(c), ws.get(c), m, n, k, none);
            else gemm.linear(y, Precision.BF16, xs.get(c), ws.get(c), m, n, k, none);
        });
    }

    /** The epilogue a layer's name asks for: {@code +gelu}, {@code +gate-gelu}, or none (Y stored as it is). */
    static GemmKernels.Epilogue epilogue(String layer) {
        if (layer.endsWith("+gelu")) return GemmKernels.Epilogue.of(null, Activation.GELU_TANH);
        if (layer.endsWith("+gate-gelu")) return GemmKernels.Epilogue.gatePairs(null, Activation.GELU_ERF);
        if (layer.contains("+")) throw new IllegalArgumentException("layer " + layer + ": the epilogues are +gelu and +gate-gelu");
        return GemmKernels.Epilogue.of(null, Activation.NONE);
    }

    @TearDown
    public void report() {
        if (skip != null) return;
        if (samples() > 0) {
            double ms = medianMs();
            System.out.printf("%n[gemm %s %s %dx%dx%d %s] %.4f ms, %.1f TFLOP/s (median of %d x %d)%n", model, layer, m, k, n, path, ms,
                    2.0 * m * k * n / (ms * 1e-3) / 1e12, samples(), Math.max(INNER, xs.size()));
        }
        for (DeviceBuffer b : xs) b.close();
        for (DeviceBuffer b : ws) b.close();
        xs.clear();
        ws.clear();
        y.close();
        if (workspace != null) workspace.close();
        workspace = null;
        closeGpu();
    }
}
