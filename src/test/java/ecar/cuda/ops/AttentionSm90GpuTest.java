package ecar.cuda.ops;

import ecar.backend.cpu.CpuBackend;
import ecar.cuda.CudaContext;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.TensorMapEncoder;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static ecar.cuda.ops.GemmGpuTest.data;
import static ecar.cuda.ops.GpuOps.BF16_TOL;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.bf16Round;
import static ecar.cuda.ops.GpuOps.random;

/**
 * kernels/attention_sm90.cu (TMA + wgmma) on a device of compute capability 9.0 against CpuBackend.attention on the
 * same bf16-rounded operands: self-attention, cross-attention with few keys (most of a K/V tile masked), ragged query
 * counts (the last CTA's rows partly outside), a KV cache read through its capacity stride, head sizes 64, 72 (the
 * 32-byte-swizzled tail) and 128 and
 * both outputs. Outputs are NaN-poisoned, so an element never written fails. Skipped with the reason without such a
 * device; tools/emulate_attention_sm90.py replays the same kernel in numpy anywhere.
 */
class AttentionSm90GpuTest {
    private final CpuBackend cpu = new CpuBackend();

    @BeforeEach
    void hopper() {
        GpuOps.assume("attention_sm90");
        var d = CudaContext.get().device();
        Assumptions.assumeTrue(GemmPath.wgmmaRunsOn(d.major(), d.minor()),
                () -> "attention_sm90 is sm_90a code; this device (" + d.name() + ") has compute capability " + d.computeCapability());
    }

    @ParameterizedTest(name = "B{0} H{1} d{2} lq {3} lk {4} (cache of {5})")
    @CsvSource({"2, 4, 64, 256, 256, 0", "1, 2, 64, 130, 17, 0", "1, 3, 64, 300, 700, 0", "2, 2, 128, 128, 200, 0",
            "1, 16, 64, 256, 341, 512", "1, 2, 128, 129, 100, 341", "2, 16, 72, 256, 256, 0", "1, 3, 72, 130, 300, 0", "1, 2, 72, 200, 17, 0"})
    void matchesTheCpu(int batch, int heads, int d, int lq, int lk, int capacity) {
        int w = heads * d, rows = capacity > 0 ? capacity : lk;
        float[] q = bf16Round(random(31, batch * lq * w, 1f)), k = bf16Round(random(32, batch * rows * w, 1f)), v = bf16Round(random(33, batch * rows * w, 1f));
        float[] kUsed = new float[batch * lk * w], vUsed = new float[batch * lk * w];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(k, b * rows * w, kUsed, b * lk * w, lk * w);
            System.arraycopy(v, b * rows * w, vUsed, b * lk * w, lk * w);
        }
        float[] expected = data(cpu.attention(FloatTensor.of(q, batch, lq, w), FloatTensor.of(kUsed, batch, lk, w), FloatTensor.of(vUsed, batch, lk, w), heads));
        Attention.Problem p = capacity > 0 ? Attention.Problem.cached(batch, heads, d, lq, lk, capacity) : Attention.Problem.dense(batch, heads, d, lq, lk);
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer dq = g.bf16(q, "q"), dk = g.bf16(k, "k"), dv = g.bf16(v, "v");
            // persistent on one CTA per SM, on 3 and on 1 (every item through both Q buffers and the ring in turn), and
            // one CTA per item
            for (int ctas : new int[]{g.multiprocessors(), 3, 1, Integer.MAX_VALUE}) {
                for (Precision out : Precision.values()) {
                    DeviceBuffer o = g.poisoned((long) batch * lq * w, out, "o");
                    AttentionSm90.forward(g.launcher, TensorMapEncoder.DRIVER, ctas, p, dq, dk, dv, o, out == Precision.BF16);
                    assertClose("attention_sm90 " + p + " " + out + " on at most " + ctas + " CTAs", expected, g.read(o, (long) batch * lq * w, out), BF16_TOL);
                }
            }
        }
    }

    /**
     * The overlapped schedule (ECAR_ATTENTION_OVERLAP=on: the next tile's S issued before this tile's P·V) gives the
     * bits of the plain one: the same float operations in the same order. One K/V tile (nothing to overlap), several,
     * a ragged last one, head sizes 64, 72 and 128, a KV cache, persistent on 3 CTAs and one per SM.
     */
    @ParameterizedTest(name = "B{0} H{1} d{2} lq{3} lk{4} capacity {5}")
    @CsvSource({"2, 16, 64, 256, 256, 0", "1, 4, 64, 130, 100, 0", "1, 2, 128, 129, 300, 341", "2, 3, 72, 200, 520, 0"})
    void overlappedScheduleGivesTheSameBits(int batch, int heads, int d, int lq, int lk, int capacity) {
        int w = heads * d, rows = capacity > 0 ? capacity : lk;
        float[] q = bf16Round(random(41, batch * lq * w, 1f)), k = bf16Round(random(42, batch * rows * w, 1f)), v = bf16Round(random(43, batch * rows * w, 1f));
        Attention.Problem p = capacity > 0 ? Attention.Problem.cached(batch, heads, d, lq, lk, capacity) : Attention.Problem.dense(batch, heads, d, lq, lk);
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer dq = g.bf16(q, "q"), dk = g.bf16(k, "k"), dv = g.bf16(v, "v");
            for (int ctas : new int[]{g.multiprocessors(), 3}) {
                for (Precision out : Precision.values()) {
                    float[][] got = new float[2][];
                    for (int overlap = 0; overlap < 2; overlap++) {
                        DeviceBuffer o = g.poisoned((long) batch * lq * w, out, "o");
                        AttentionSm90.forward(g.launcher, TensorMapEncoder.DRIVER, ctas, p, dq, dk, dv, o, out == Precision.BF16, overlap == 1);
                        got[overlap] = g.read(o, (long) batch * lq * w, out);
                    }
                    for (int i = 0; i < got[0].length; i++) {
                        org.junit.jupiter.api.Assertions.assertFalse(Float.isNaN(got[0][i]), p + " " + out + ": output " + i + " not written");
                        if (Float.floatToRawIntBits(got[0][i]) != Float.floatToRawIntBits(got[1][i])) {
                            throw new AssertionError("attention_sm90 " + p + " " + out + " on " + ctas + " CTAs: output " + i + " is " + got[1][i]
                                    + " overlapped, " + got[0][i] + " not");
                        }
                    }
                }
            }
        }
    }
}
