package ecar.bench;

import ecar.cuda.DeviceArena;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.CudaContext;
import ecar.cuda.TensorMapEncoder;
import ecar.cuda.ops.Attention;
import ecar.cuda.ops.AttentionSm90;
import ecar.cuda.ops.GemmPath;
import ecar.cuda.ops.Launcher;
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
 * Our attention kernels (non-causal, bf16 in and out, no RoPE) at the ECAR/DiT shapes: batch 64, 16 heads, sequence
 * 256 and 341, head 64 and 72; {@link #kernel} m2 and m1 are kernels/attention.cu with 2 or 1 query m-tiles a warp,
 * sm90 and sm90-items are kernels/attention_sm90.cu persistent and a CTA per item, sm90-overlap persistent with the next
 * tile's S overlapping this tile's P·V (TMA + wgmma; compute capability 9.0 only, else it says why and
 * measures nothing). Device time from CUDA events around 20 launches, median over all
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
    /**
     * m2, m1: attention.cu with 2 (the default for head 64 and 72) or 1 query m-tiles a warp; sm90: attention_sm90.cu,
     * persistent (a CTA per SM); sm90-items: attention_sm90.cu with a CTA per work item, as before it was persistent;
     * sm90-overlap: persistent, overlapped (AttentionSm90.OVERLAP), whatever ECAR_ATTENTION_OVERLAP says. The sm90 and
     * sm90-items lines take the kernel's default schedule.
     */
    @Param({"m2", "m1", "sm90", "sm90-items", "sm90-overlap"})
    public String kernel;

    private DeviceArena arena;
    private DeviceBuffer q, k, v, o;
    private Attention.Problem problem;

    @Setup
    public void setup() {
        boolean sm90 = kernel.startsWith("sm90");
        String label = "attention " + kernel + " B=" + batch + " H=" + heads + " L=" + seq + " d=" + head;
        if (!open(label, sm90 ? AttentionSm90.FAMILY : Attention.FAMILY)) return;
        problem = Attention.Problem.dense(batch, heads, head, seq, seq);
        if (sm90) {
            var device = CudaContext.get().device();
            String why = !GemmPath.wgmmaRunsOn(device.major(), device.minor()) ? "attention_sm90 is sm_90a code; " + device.name() + " has compute capability "
                    + device.computeCapability() : !AttentionSm90.takes(problem, false) ? "attention_sm90 has no kernel for head " + head : null;
            if (why != null) {
                skip = why;
                System.out.println("\n[" + label + "] skipped: " + why);
                closeGpu();
                return;
            }
        }
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
        if (kernel.startsWith("sm90")) {
            int ctas = kernel.equals("sm90-items") ? Integer.MAX_VALUE : CudaContext.get().device().multiprocessors();
            boolean overlap = kernel.equals("sm90-overlap") || AttentionSm90.OVERLAP.flipped();
            time(20, () -> AttentionSm90.forward(Launcher.on(stream), TensorMapEncoder.DRIVER, ctas, problem, q, k, v, o, true, overlap));
        } else {
            time(20, () -> Attention.forward(stream, problem, q, k, v, o, true, null, null, kernel.equals("m1") ? 1 : 2));
        }
    }

    @TearDown
    public void report() {
        if (skip != null) return;
        double med = medianMs();
        double tflops = problem.flops() / (med * 1e-3) / 1e12;
        System.out.printf("%n[attention] %s%n", GpuTiming.device());
        System.out.printf("%-10s %-8s B=%-3d H=%-3d L=%-4d d=%-4d median %8.4f ms  %7.1f TFLOP/s   (copy ceiling %.0f GB/s; %s)%n",
                "attention", "ours-" + kernel, batch, heads, seq, head, med, tflops, GpuTiming.copyCeilingGBs(), GpuTiming.gemmCeiling());
        arena.ledger().resetAll();
        arena.close();
        closeGpu();
    }
}
