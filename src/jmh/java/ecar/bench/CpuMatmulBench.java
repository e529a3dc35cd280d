package ecar.bench;

import ecar.backend.Activation;
import ecar.backend.cpu.CpuBackend;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The CPU backend's matrix multiply (Backend.linear: x·wᵀ) on the shapes of a DiT-S/2 forward at batch 8,
 * 256² (M = 8·256 tokens) and of the FlowAR MLP (N = 2730). The GFLOP/s figure is printed at tear-down;
 * tools/cpu_torch_bench.py times torch.nn.functional.linear on the same shapes with 2 threads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class CpuMatmulBench {
    /** M×K×N */
    @Param({"2048x384x1152", "2048x384x1536", "2048x1536x384", "2048x384x384", "512x1024x2730", "1024x1024x1024"})
    public String shape;

    private final CpuBackend cpu = new CpuBackend();
    private Tensor x, w;
    private int m, k, n;
    private long calls, nanos;

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        m = Integer.parseInt(p[0]);
        k = Integer.parseInt(p[1]);
        n = Integer.parseInt(p[2]);
        x = random(m, k);
        w = random(n, k);
    }

    static Tensor random(int... dims) {
        FloatTensor t = FloatTensor.zeros(Shape.of(dims));
        SplittableRandom r = new SplittableRandom(dims.length * 31L + dims[0]);
        for (int i = 0; i < t.data().length; i++) t.data()[i] = (float) r.nextGaussian();
        return t;
    }

    @Benchmark
    public Tensor linear() {
        long t0 = System.nanoTime();
        Tensor y = cpu.linear(x, w, null, Activation.NONE);
        nanos += System.nanoTime() - t0;
        calls++;
        return y;
    }

    @TearDown
    public void report() {
        if (calls > 0) {
            System.out.printf("%n[matmul %s] %.1f GFLOP/s over %d calls%n", shape, 2.0 * m * k * n * calls / nanos, calls);
        }
    }
}
