package ecar.bench;

import ecar.backend.cpu.CpuBackend;
import ecar.dit.DiT;
import ecar.model.RandomWeights;
import ecar.model.Weights;
import ecar.sample.Presets;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * One DiT-S/2 forward pass at batch 8, 256² (latents [8, 4, 32, 32], 256 tokens each) on the CPU backend.
 * tools/cpu_torch_bench.py runs the same architecture in PyTorch eager with 2 threads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DiTForwardBench {
    private DiT model;
    private Tensor x;
    private final float[] t = {999, 900, 800, 700, 600, 500, 400, 300};
    private final int[] y = {1, 2, 3, 4, 5, 6, 7, 8};
    private long calls, nanos;

    @Setup
    public void setup() {
        CpuBackend cpu = new CpuBackend();
        model = new DiT((ecar.dit.DiTConfig) Presets.get("dit-s-2").architecture(), new Weights(new RandomWeights(0), cpu));
        x = cpu.randn(Shape.of(8, 4, 32, 32), 1, 0);
    }

    @Benchmark
    public Tensor forward() {
        long t0 = System.nanoTime();
        Tensor out = model.forward(x, t, y);
        nanos += System.nanoTime() - t0;
        calls++;
        return out;
    }

    @TearDown
    public void report() {
        double flops = 8 * 2 * Presets.get("dit-s-2").flops().forwardMacs();
        if (calls > 0) System.out.printf("%n[dit-s-2 forward, batch 8] %.1f ms, %.1f GFLOP/s%n", nanos / 1e6 / calls, flops * calls / nanos);
    }
}
