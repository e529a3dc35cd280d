package ecar.bench;

import ecar.cuda.DeviceArena;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.ops.Flow;
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

import java.util.concurrent.TimeUnit;

/**
 * kernels/flow.cu's guided Euler step (flow_euler_guided: reads x and v, writes x; 24 bytes per guided element
 * pair) in GB/s beside the device-to-device copy ceiling. The ECAR shape ([2·32, 256, 16] = 1 MiB of state) fits
 * in L2, so its launches rotate over enough copies (≥ 256 MiB) that each launch reads from DRAM; "large" is one
 * 2²⁶-element state. Device time from CUDA events, median of repeats.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class FlowStepGpuBench extends GpuBench {
    /** Elements of the state x (both halves). */
    @Param({"262144", "67108864"})
    public long elements;

    private DeviceArena arena;
    private DeviceBuffer[] xs, vs;
    private int next;

    @Setup
    public void setup() {
        if (!open("flow step", Flow.FAMILY)) return;
        long bytes = 4 * elements;
        int copies = (int) Math.max(1, (256L << 20) / (2 * bytes));
        arena = new DeviceArena("flow bench", copies * 2 * (bytes + DeviceArena.ALIGNMENT));
        xs = new DeviceBuffer[copies];
        vs = new DeviceBuffer[copies];
        for (int i = 0; i < copies; i++) {
            xs[i] = arena.allocate(bytes, "x" + i);
            vs[i] = arena.allocate(bytes, "v" + i);
            Flow.randn(stream, xs[i], elements, 1, 2 * i);
            Flow.randn(stream, vs[i], elements, 1, 2 * i + 1);
        }
        stream.synchronize();
    }

    @Benchmark
    public void eulerGuided() {
        if (skip != null) return;
        time(Math.max(20, xs.length), () -> {   // a burst (one graph) covers every copy, so no launch reads from L2
            int i = next++ % xs.length;
            Flow.eulerGuided(stream, xs[i], vs[i], elements / 2, -0.001f, 2.4f);
        });
    }

    @TearDown
    public void report() {
        if (skip != null) return;
        double med = medianMs();
        double gbs = 12.0 * elements / (med * 1e-3) / 1e9;
        double ceiling = GpuTiming.copyCeilingGBs();
        System.out.printf("%n[flow step] %s%n", GpuTiming.device());
        System.out.printf("%-10s %-8s n=%-10d median %8.4f ms  %7.1f GB/s  = %5.1f%% of the copy ceiling %.0f GB/s (%d rotated copies)%n",
                "flow_step", "ours", elements, med, gbs, 100 * gbs / ceiling, ceiling, xs.length);
        arena.ledger().resetAll();
        arena.close();
        closeGpu();
    }
}
