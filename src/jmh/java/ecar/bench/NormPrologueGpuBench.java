package ecar.bench;

import ecar.backend.Activation;
import ecar.backend.Norm;
import ecar.cuda.CudaContext;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.ops.GemmKernels;
import ecar.cuda.ops.GemmPath;
import ecar.cuda.ops.Launcher;
import ecar.cuda.ops.NormInput;
import ecar.cuda.ops.NormKernels;
import ecar.cuda.ops.Precision;
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
import java.util.concurrent.TimeUnit;

/**
 * A norm and the skinny GEMM that reads it at batch 1, as two launches (norm_rows, then gemm_skinny) or as one
 * (gemm_skinny_norm, ECAR_NORM_PROLOGUE=on), side by side in one run: an adaLN RMSNorm of {@code rows} rows of 1024
 * (ECAR-L's guided first stages: 2 and 8 rows; and 16) into ECAR-L's qkv (N 3072) or its fc1 gate pairs (N 10920), replayed as a
 * graph of bursts, W rotated over copies beyond L2 so that each launch streams its weights from memory as a model's
 * layers do. The µs per norm + linear is what the prologue saves or costs: one launch fewer against every block
 * reading its rows of x whole.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class NormPrologueGpuBench extends GpuBench {
    /**
     * Rows, then N: 2 and 8 rows into the qkv and into the fc1 gate pairs; and 16, past the default's 8 rows
     * (GemmKernels.NORM_PROLOGUE_MAX_M), where each block's reads of x double: whether the default should grow.
     */
    @Param({"2 3072", "8 3072", "16 3072", "2 10920", "8 10920", "16 10920"})
    public String shape;

    @Param({"separate", "prologue"})
    public String mode;

    static final int WIDTH = 1024, PAIRS = 64;

    private int rows, n;
    private NormKernels norms;
    private GemmKernels gemm;
    private DeviceBuffer x, mod, h, y;
    private final List<DeviceBuffer> ws = new ArrayList<>();

    @Setup
    public void setup() {
        String[] p = shape.trim().split("\\s+");
        rows = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        if (!open("norm prologue " + shape + " " + mode, "gemm_skinny")) return;
        Launcher launcher = Launcher.on(stream);
        norms = new NormKernels(launcher);
        gemm = new GemmKernels(launcher, CudaContext.get().device().multiprocessors(), GemmPath.MMA_SYNC, null, null).withNormPrologue(true)
                .withNormPrologueRows(GemmKernels.SKINNY_MAX_M);
        x = DeviceBuffer.allocate(4L * rows * WIDTH, "x");
        mod = DeviceBuffer.allocate(4L * rows * 6 * WIDTH, "adaLN");
        h = DeviceBuffer.allocate(2L * rows * WIDTH, "h");
        y = DeviceBuffer.allocate(2L * rows * n, "y");
        float[] xs = new float[rows * WIDTH], ms = new float[rows * 6 * WIDTH];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
        for (int i = 0; i < ms.length; i++) ms[i] = 0.1f * (float) r.nextGaussian();
        x.upload(xs);
        mod.upload(ms);
        ws.addAll(copiesPastL2(n * WIDTH, "w"));
        stream.synchronize();
    }

    @Benchmark
    public void normThenLinear() {
        if (skip != null) return;
        int[] i = {0};
        GemmKernels.Epilogue e = n == 3072 ? GemmKernels.Epilogue.of(null, Activation.NONE) : GemmKernels.Epilogue.gatePairs(null, Activation.GELU_ERF);
        DeviceBuffer shift = mod.slice(4L * 4 * WIDTH, mod.bytes() - 4L * 4 * WIDTH, "shift"), scale = mod.slice(4L * 2 * WIDTH, mod.bytes() - 4L * 2 * WIDTH, "scale");
        NormInput in = NormInput.modulated(x, shift, scale, 6 * WIDTH, rows, WIDTH, Norm.RMS, 1e-6f, 1);
        int yCols = n == 3072 ? n : n / 2;
        DeviceBuffer out = y.slice(0, 2L * rows * yCols, "y");
        time(PAIRS, () -> {
            DeviceBuffer w = ws.get(i[0]++ % ws.size());
            if (mode.equals("prologue")) {
                gemm.linearNormed(out, Precision.BF16, in, w, n, e);
            } else {
                norms.rows(h, Precision.BF16, in);
                gemm.linear(out, Precision.BF16, h, w, rows, n, WIDTH, e);
            }
        });
    }

    @TearDown
    public void report() {
        if (skip != null) return;
        System.out.printf("%n[norm prologue] %s%n", GpuTiming.device());
        System.out.printf("norm+linear %d x %d -> %-5d %-8s median %7.2f µs (%d a graph, %d samples)%n", rows, WIDTH, n, mode, 1e3 * medianMs(), PAIRS, samples());
        x.close();
        mod.close();
        h.close();
        y.close();
        for (DeviceBuffer w : ws) w.close();
        ws.clear();
        closeGpu();
    }
}
