package ecar.bench;

import ecar.cuda.DeviceArena;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.ops.Attention;
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
 * kernels/attention.cu (non-causal, bf16 in and out, no RoPE) at the ECAR/DiT shapes: batch 64, 16 heads,
 * sequence 256 and 341, head 64 and 72. Device time from CUDA events around 20 launches, median over all
 * repeats, printed at tear-down as TFLOP/s (4·B·H·L²·d) beside the copy ceiling, in the table format of
 * tools/sdpa_bench.py, which times PyTorch's scaled_dot_product_attention on the same shapes right after.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionGpuBench extends GpuBench {
    @Param({"64"})
    public int batch;
    @Param({"16"})
    public int heads;
    @Param({"256", "341"})
    public int seq;
    @Param({"64", "72"})
    public int head;
    /** Query m-tiles a warp: 2 (the default for head 64 and 72) or 1; both are compiled so the faster can be chosen. */
    @Param({"2", "1"})
    public int mtiles;

    private DeviceArena arena;
    private DeviceBuffer q, k, v, o;
    private Attention.Problem problem;

    @Setup
    public void setup() {
        if (!open("attention", Attention.FAMILY)) return;
        problem = Attention.Problem.dense(batch, heads, head, seq, seq);
        long n = (long) batch * seq * heads * head;
        arena = new DeviceArena("attention bench", 4 * (2 * n) + (4 * n) + (16L << 20));
        DeviceBuffer scratch = arena.allocate(4 * n, "f32 scratch");
        q = randomBf16(scratch, n, 1);
        k = randomBf16(scratch, n, 2);
        v = randomBf16(scratch, n, 3);
        o = arena.allocate(2 * n, "out");
        stream.synchronize();
    }

    private DeviceBuffer randomBf16(DeviceBuffer scratch, long n, int s) {
        DeviceBuffer t = arena.allocate(2 * n, "operand " + s);
        Flow.randn(stream, scratch, n, 1234, s);
        Attention.castToBf16(stream, t, scratch, n);
        return t;
    }

    @Benchmark
    public void attention() {
        if (skip != null) return;
        time(20, () -> Attention.forward(stream, problem, q, k, v, o, true, null, null, mtiles));
    }

    @TearDown
    public void report() {
        if (skip != null) return;
        double med = medianMs();
        double tflops = problem.flops() / (med * 1e-3) / 1e12;
        System.out.printf("%n[attention] %s%n", GpuTiming.device());
        System.out.printf("%-10s %-8s B=%-3d H=%-3d L=%-4d d=%-4d median %8.4f ms  %7.1f TFLOP/s   (copy ceiling %.0f GB/s; %s)%n",
                "attention", "ours-m" + mtiles, batch, heads, seq, head, med, tflops, GpuTiming.copyCeilingGBs(), GpuTiming.gemmCeiling());
        arena.ledger().resetAll();
        arena.close();
        closeGpu();
    }
}
