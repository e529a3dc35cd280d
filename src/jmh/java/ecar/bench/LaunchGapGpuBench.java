package ecar.bench;

import ecar.backend.Activation;
import ecar.cuda.CudaContext;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.LaunchDriver;
import ecar.cuda.ops.ElementwiseKernels;
import ecar.cuda.ops.GemmKernels;
import ecar.cuda.ops.GemmPath;
import ecar.cuda.ops.Launcher;
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
 * What a kernel boundary costs at batch 1, with and without programmatic dependent launch (ECAR_PDL, LaunchDriver), in
 * one run: a burst of dependent launches replayed as one graph, as the sampling loops are, and its time per launch.
 * {@code add}: x += y on 1024 floats, nearly no work, so the time is the boundary itself. {@code skinny}: Y = X·Wᵀ with
 * 8 rows, 1024 → 1024 (gemm_skinny, 2 MB of bf16 weights, over enough copies that each launch streams its W from
 * memory, as a model's layers do), each launch reading the one before's output: what the W prefetch before the wait adds.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LaunchGapGpuBench extends GpuBench {
    @Param({"add", "skinny"})
    public String chain;

    @Param({"off", "on"})
    public String pdl;

    static final int LAUNCHES = 256, ROWS = 8, WIDTH = 1024;
    /** The setting this benchmark turns, by its system property (read at every launch, the capture's included). */
    static final String PROPERTY = LaunchDriver.PROGRAMMATIC.property();

    private String before;
    private ElementwiseKernels ew;
    private GemmKernels gemm;
    private DeviceBuffer x, y;
    private final List<DeviceBuffer> ws = new ArrayList<>();

    @Setup
    public void setup() {
        if (!open("launch gap " + chain + " ECAR_PDL=" + pdl, chain.equals("add") ? "elementwise" : "gemm_skinny")) return;
        var device = CudaContext.get().device();
        if (pdl.equals("on") && device.major() < 9) {
            skip = "programmatic dependent launch needs compute capability 9.0; " + device.name() + " has " + device.computeCapability();
            System.out.println("\n[launch gap] skipped: " + skip);
            closeGpu();
            return;
        }
        before = System.getProperty(PROPERTY);
        System.setProperty(PROPERTY, pdl);
        Launcher launcher = Launcher.on(stream);
        if (chain.equals("add")) {
            ew = new ElementwiseKernels(launcher);
            x = DeviceBuffer.allocate(4L * WIDTH, "x");
            y = DeviceBuffer.allocate(4L * WIDTH, "y");
            x.upload(new float[WIDTH]);
            y.upload(new float[WIDTH]);
        } else {
            gemm = new GemmKernels(launcher, device.multiprocessors(), GemmPath.MMA_SYNC, null, null);
            x = DeviceBuffer.allocate(2L * ROWS * WIDTH, "x");
            y = DeviceBuffer.allocate(2L * ROWS * WIDTH, "y");
            x.upload(new short[ROWS * WIDTH]);
            y.upload(new short[ROWS * WIDTH]);
            ws.addAll(copiesPastL2(WIDTH * WIDTH, "w"));
        }
        stream.synchronize();
    }

    @Benchmark
    public void boundary() {
        if (skip != null) return;
        int[] i = {0};
        GemmKernels.Epilogue none = GemmKernels.Epilogue.of(null, Activation.NONE);
        time(LAUNCHES, () -> {   // each launch depends on the one before: x += y, or y = x·Wᵀ then x = y·Wᵀ
            int c = i[0]++;
            if (ew != null) ew.add(x, Precision.F32, x, y, 1, WIDTH, 1);
            else if (c % 2 == 0) gemm.linear(y, Precision.BF16, x, ws.get(c % ws.size()), ROWS, WIDTH, WIDTH, none);
            else gemm.linear(x, Precision.BF16, y, ws.get(c % ws.size()), ROWS, WIDTH, WIDTH, none);
        });
    }

    @TearDown
    public void report() {
        if (skip != null) return;
        System.out.printf("%n[launch gap] %s%n", GpuTiming.device());
        System.out.printf("%-8s ECAR_PDL=%-3s median %7.2f µs a launch (%d dependent launches a graph, %d samples)%n",
                chain, pdl, 1e3 * medianMs(), LAUNCHES, samples());
        if (before == null) System.clearProperty(PROPERTY);
        else System.setProperty(PROPERTY, before);
        x.close();
        y.close();
        for (DeviceBuffer w : ws) w.close();
        ws.clear();
        closeGpu();
    }
}
