package ecar.cuda.ops;

import ecar.backend.Activation;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.PosteriorVariance;
import ecar.backend.Norm;
import ecar.cuda.ops.GemmKernels.Epilogue;
import ecar.cuda.ops.GemmKernels.Tile;
import ecar.cuda.ops.RecordingLauncher.Fake;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static ecar.cuda.ops.RecordingLauncher.bf16;
import static ecar.cuda.ops.RecordingLauncher.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The op wrappers without a GPU: what they reject (with messages naming the operand), which kernel and launch shape
 * they pick, and that every launch's arguments match its declared signature. Every kernel name used is checked
 * against the extern "C" entry points of kernels/*.cu.
 */
class OpsValidationTest {
    /** The RoPE arguments every GEMM launch ends with (GemmKernels.ROPE_PARAMS); the tests count the others from before them. */
    static final int ROPE = 7;
    final RecordingLauncher rec = new RecordingLauncher();
    private final GemmKernels gemm = new GemmKernels(rec, 132);
    /** The tensor maps the wgmma path asked for, "encoded" as 128 bytes that start with the operand's address. */
    final java.util.List<ecar.cuda.TensorMapSpec> maps = new java.util.ArrayList<>();
    private final GemmKernels hopper = new GemmKernels(rec, 132, GemmPath.WGMMA, spec -> {
        maps.add(spec);
        byte[] b = new byte[ecar.cuda.TensorMap.BYTES];
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(spec.globalAddress());
        return new ecar.cuda.TensorMap(spec, b);
    });
    private final ConvKernels conv = new ConvKernels(rec, 132);
    private final NormKernels norm = new NormKernels(rec);
    private final EmbedKernels embed = new EmbedKernels(rec);
    private final DiffusionKernels diff = new DiffusionKernels(rec);
    private final ElementwiseKernels ew = new ElementwiseKernels(rec);
    private final SampleKernels sample = new SampleKernels(rec);
    private static final DiffusionCoefficients K = new DiffusionCoefficients(1.1f, 0.4f, 0.3f, 0.7f, -6f, -4f, 0.9f, 0.43f, -4.5f);

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    // ------------------------------------------------------------------ gemm

    /**
     * The GPU bit comparisons (GemmGpuTest.assertSameBitsBothWays) pass gateRatio(M) to the residual epilogue, which
     * refuses a ratio that does not divide M: on the H100 (2026-11-28) M / 4 = 32 for M = 130 failed two of them
     * before they compared a bit. The ratio must be accepted for every M, and read more than one gate row where it can.
     */
    @Test
    void theBitComparisonsGateRatioIsAcceptedForEveryM() {
        for (int m = 1; m <= 4096; m++) {
            int r = GemmGpuTest.gateRatio(m);
            assertTrue(r >= 1 && m % r == 0, "gateRatio(" + m + ") = " + r);
            int mm = m;
            gemm.linear(f32(m * 8L, "y"), Precision.F32, bf16(m * 8L, "x"), bf16(64, "w"), m, 8, 8,
                    Epilogue.residual(null, f32(m * 8L, "y"), f32((m / r) * 8L, "gate"), r));
            if (m >= 8 && m % 2 == 0) assertTrue(m / r >= 2, () -> "gateRatio(" + mm + ") reads one gate row");
        }
        assertEquals(26, GemmGpuTest.gateRatio(130));
        assertEquals(75, GemmGpuTest.gateRatio(300));
    }

    @Test
    void gemmRejectsKNotAMultipleOf8NamingK() {
        int m = 4, n = 8, k = 12;
        String msg = message(() -> gemm.linear(f32(m * n, "y"), Precision.F32, bf16(m * k, "x"), bf16(n * k, "w"), m, n, k,
                Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("K = 12") && msg.contains("multiple of 8"), msg);
        assertTrue(rec.calls.isEmpty());
    }

    @Test
    void gemmRejectsMisalignedAndShortBuffers() {
        int m = 85, n = 1000, k = 1152;
        Fake x = bf16((long) m * k, "x"), w = bf16((long) n * k, "w"), y = f32((long) m * n, "y");
        String msg = message(() -> gemm.linear(y, Precision.F32, x.shifted(8), w, m, n, k, Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("X 'x'") && msg.contains("16-byte aligned"), msg);
        msg = message(() -> gemm.linear(bf16((long) m * n, "y"), Precision.F32, x, w, m, n, k, Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("Y 'y'") && msg.contains("[85, 1000] f32"), msg);
        msg = message(() -> gemm.linear(y, Precision.F32, x, w, m, n, k, Epilogue.of(f32(n - 1, "b"), Activation.NONE)));
        assertTrue(msg.contains("bias"), msg);
        msg = message(() -> gemm.linear(y, Precision.F32, x, w, m, n, k, Epilogue.residual(null, y, f32(n, "gate"), 2)));
        assertTrue(msg.contains("gateRatio = 2") && msg.contains("M = 85"), msg);
        // a gate chunk read in place: 5 samples' rows 6·n apart, 17 rows of y each; the last row needs only n floats
        int rows = 5 * 17;
        Fake y5 = f32((long) rows * n, "y5"), x5 = bf16((long) rows * k, "x5");
        gemm.linear(y5, Precision.F32, x5, w, rows, n, k, Epilogue.residual(null, y5, f32(4L * 6 * n + n, "mod chunk"), 17, 6 * n));
        Object[] args = rec.last().args();
        assertEquals(6 * n, args[args.length - ROPE - 2], "gateLd is the last but one argument of the mma.sync kernels before the RoPE's");
        assertEquals(1, args[args.length - ROPE - 1], "epi, the last before the RoPE's: row stores by default");
        msg = message(() -> gemm.linear(y5, Precision.F32, x5, w, rows, n, k, Epilogue.residual(null, y5, f32(4L * 6 * n + n - 1, "mod chunk"), 17, 6 * n)));
        assertTrue(msg.contains("gate 'mod chunk'") && msg.contains("rows " + 6 * n + " apart"), msg);
        msg = message(() -> gemm.linear(y5, Precision.F32, x5, w, rows, n, k, Epilogue.residual(null, y5, f32(5L * n, "gate"), 17, n - 1)));
        assertTrue(msg.contains("gateLd = " + (n - 1)), msg);
        msg = message(() -> gemm.linear(y, Precision.F32, x, w, 0, n, k, Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("M = 0"), msg);
        Fake arena = Fake.of(1 << 30, "arena");
        msg = message(() -> gemm.linear(new Fake(arena.address() + 4096, 4L * m * n, "y"), Precision.F32, new Fake(arena.address(), 2L * m * k, "x"), w,
                m, n, k, Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("Y 'y' overlaps X 'x'"), msg);
    }

    /**
     * The RoPE epilogue's tables and sizes reach every GEMM kernel as its last five arguments (none: null and zeros),
     * through the split-K reduce too (the raw ranges get none), and what it cannot do is refused by name.
     */
    @Test
    void ropeEpiloguePassesItsTablesToEveryKernelAndRefusesWhatItCannotDo() {
        int tokens = 256, d = 64, w = 1024, k = 1024;
        Fake cos = f32((long) tokens * d / 2, "cos"), sin = f32((long) tokens * d / 2, "sin");
        GemmKernels.Rope rope = new GemmKernels.Rope(cos, sin, tokens, d, 2 * w);
        for (int m : new int[]{2 * tokens, 64 * tokens}) {   // gemm.cu's tiles (batch 1), gemm_sm90 (batch 64)
            for (GemmKernels g : new GemmKernels[]{gemm, hopper}) {
                g.linear(bf16((long) m * 3 * w, "qkv"), Precision.BF16, bf16((long) m * k, "x"), bf16(3L * w * k, "w"), m, 3 * w, k,
                        Epilogue.rope(f32(3 * w, "bias"), rope));
                Object[] a = rec.last().args();
                assertEquals(java.util.Arrays.asList(cos, sin, tokens, d, 2 * w, null, tokens), java.util.Arrays.asList(a).subList(a.length - ROPE, a.length),
                        rec.last().kernel() + ": the RoPE arguments close the launch");
            }
        }
        gemm.linear(bf16(16L * 3 * 64, "qkv"), Precision.BF16, bf16(16L * 64, "x"), bf16(3L * 64 * 64, "w"), 16, 3 * 64, 64,
                Epilogue.rope(null, new GemmKernels.Rope(f32(16 * 8, "c"), f32(16 * 8, "s"), 16, 16, 128)));
        assertEquals("gemm_skinny", rec.last().family());
        assertEquals(16, rec.last().args()[rec.last().args().length - 5], "the skinny kernel too");
        gemm.linear(f32(100L * 64, "y"), Precision.F32, bf16(100L * 64, "x"), bf16(64L * 64, "w"), 100, 64, 64, Epilogue.of(null, Activation.NONE));
        Object[] plain = rec.last().args();
        assertEquals(java.util.Arrays.asList(null, null, 0, 0, 0, null, 0), java.util.Arrays.asList(plain).subList(plain.length - ROPE, plain.length), "no RoPE: nulls and zeros");
        int m = 2 * tokens;
        Fake y = bf16((long) m * 3 * w, "qkv"), x = bf16((long) m * k, "x"), wt = bf16(3L * w * k, "w");
        String msg = message(() -> gemm.linear(y, Precision.BF16, x, wt, m - 1, 3 * w, k, Epilogue.rope(null, rope)));
        assertTrue(msg.contains("M = " + (m - 1)) && msg.contains("whole samples of 256 tokens"), msg);
        msg = message(() -> gemm.linear(y, Precision.BF16, x, wt, m, 3 * w, k, Epilogue.rope(null, new GemmKernels.Rope(cos, sin, tokens, d, 2 * w + 32))));
        assertTrue(msg.contains("RoPE on 2080 columns") && msg.contains("whole heads of 64"), msg);
        msg = message(() -> gemm.linear(y, Precision.BF16, x, wt, m, 3 * w, k, Epilogue.rope(null, new GemmKernels.Rope(cos, f32(10, "short"), tokens, d, 2 * w))));
        assertTrue(msg.contains("rope sin 'short'") && msg.contains("[256, 32] f32"), msg);
        msg = message(() -> gemm.linear(y, Precision.BF16, x, wt, m, 3 * w, k, new Epilogue(null, Activation.GELU_TANH, GemmKernels.Post.STORE, null, null, 1, 0, null, rope)));
        assertTrue(msg.contains("a RoPE epilogue stores x·Wᵀ + bias rotated") && msg.contains("GELU_TANH"), msg);
        // ARPG's queries: every column rotated by table rows rows[t] of a 257-row table
        Fake rows = f32(5, "rows"), tcos = f32(257L * 32, "table cos"), tsin = f32(257L * 32, "table sin");
        GemmKernels.Rope byRows = new GemmKernels.Rope(tcos, tsin, 5, 64, 1024, rows, 257);
        gemm.linear(bf16(10L * 1024, "q"), Precision.BF16, bf16(10L * 1024, "x"), bf16(1024L * 1024, "wq"), 10, 1024, 1024, Epilogue.rope(null, byRows));
        Object[] ar = rec.last().args();
        assertEquals(java.util.Arrays.asList(tcos, tsin, 5, 64, 1024, rows, 257), java.util.Arrays.asList(ar).subList(ar.length - ROPE, ar.length));
        msg = message(() -> gemm.linear(bf16(10L * 1024, "q"), Precision.BF16, bf16(10L * 1024, "x"), bf16(1024L * 1024, "wq"), 10, 1024, 1024,
                Epilogue.rope(null, new GemmKernels.Rope(tcos, tsin, 5, 64, 1024, f32(4, "rows"), 257))));
        assertTrue(msg.contains("rope rows 'rows'") && msg.contains("[5] f32"), msg);
        msg = message(() -> gemm.linear(y, Precision.BF16, x, wt, m, 3 * w, k, Epilogue.rope(null, new GemmKernels.Rope(cos, sin, tokens, d, 2 * w, null, 257))));
        assertTrue(msg.contains("RoPE tables of 257 rows for 256 tokens"), msg);
    }

    @Test
    void splitKRangesCarryNoRopeAndTheReduceAppliesIt() {
        GemmKernels split = new GemmKernels(rec, 132, GemmPath.WGMMA, spec -> new ecar.cuda.TensorMap(spec, new byte[ecar.cuda.TensorMap.BYTES]),
                (count, label) -> {
                    Fake ws = f32(count, label);
                    return new GemmKernels.Scratch.Lease() {
                        public ecar.cuda.DeviceAddress address() {
                            return ws;
                        }

                        public void close() {}
                    };
                });
        int m = 128, w = 192, k = 2048;   // 2 tiles: K split
        Fake cos = f32(64L * 32, "cos"), sin = f32(64L * 32, "sin");
        int before = rec.calls.size();
        split.linearSm90(bf16((long) m * 3 * w, "qkv"), Precision.BF16, bf16((long) m * k, "x"), bf16(3L * w * k, "w"), m, 3 * w, k,
                Epilogue.rope(null, new GemmKernels.Rope(cos, sin, 64, 64, 2 * w)));
        assertEquals(before + 2, rec.calls.size());
        Object[] ranges = rec.calls.get(before).args(), reduce = rec.last().args();
        assertEquals(null, ranges[ranges.length - ROPE], "the ranges store raw sums");
        assertEquals(java.util.Arrays.asList(cos, sin, 64, 64, 2 * w, null, 64), java.util.Arrays.asList(reduce).subList(reduce.length - ROPE, reduce.length));
    }

    @Test
    void skinnyLaunchHasTheKernelsWarps() throws IOException {
        assertEquals(GemmKernels.SKINNY_WARPS, GemmSm90SassTest.constant(Files.readString(Path.of("kernels", "gemm_skinny.cu")), "WARPS"),
                "gemm_skinny.cu's WARPS is the launch's block of warps");
    }

    @Test
    void gemmPicksTheTileAndGridForTheShape() {
        // DiT-XL/2 fc1 at batch 64: 16384 × 4608 → 128 × 36 big tiles
        int m = 64 * 256, n = 4608, k = 1152;
        gemm.linear(bf16((long) m * n, "y"), Precision.BF16, bf16((long) m * k, "x"), bf16((long) n * k, "w"), m, n, k,
                Epilogue.of(f32(n, "b"), Activation.GELU_TANH));
        var c = rec.last();
        assertEquals("gemm_bf16_t128_bf16", c.kernel());
        assertEquals(36, c.shape().gridX());
        assertEquals(128, c.shape().gridY());
        assertEquals(256, c.shape().blockX());
        assertEquals(65536, c.shape().sharedBytes());
        assertEquals(Activation.GELU_TANH.ordinal(), c.args()[10]);
        // adaLN at batch 2: 2 × 6912 → the skinny kernel, a warp per output pair: 3456 warps in 864 blocks of 4
        gemm.linear(f32(2 * 6912, "y"), Precision.F32, bf16(2 * 1152, "c"), bf16(6912L * 1152, "w"), 2, 6912, 1152,
                Epilogue.of(f32(6912, "b"), Activation.NONE));
        c = rec.last();
        assertEquals("gemm_skinny", c.family());
        assertEquals("gemm_skinny_f32", c.kernel());
        assertEquals(new ecar.cuda.LaunchShape(864, 1, 1, 128, 1, 1, 0), c.shape());
        assertEquals(1, c.args()[c.args().length - ROPE - 1], "3456 pairs: a warp each (ksplit 1)");
        // ARPG-L's fc2 at batch 1, 6 × 2816 → 1024: 512 pairs, 4 warps each on a quarter of K (2048 warps for 132 SMs)
        gemm.linear(f32(6 * 1024, "y"), Precision.F32, bf16(6 * 2816, "h"), bf16(1024L * 2816, "w"), 6, 1024, 2816, Epilogue.of(null, Activation.NONE));
        c = rec.last();
        assertEquals(new ecar.cuda.LaunchShape(512, 1, 1, 128, 1, 1, 0), c.shape());
        assertEquals(4, c.args()[c.args().length - ROPE - 1], "ksplit");
        assertEquals(java.util.List.of(4, 2, 1, 1, 1, 4), java.util.List.of(GemmKernels.skinnySplit(1024, 2816, 132, 1), GemmKernels.skinnySplit(3072, 1024, 132, 1),
                GemmKernels.skinnySplit(5460, 1024, 132, 1), GemmKernels.skinnySplit(1024, 256, 132, 1), GemmKernels.skinnySplit(1, 8, 132, 1),
                GemmKernels.skinnySplit(1024, 2736, 132, 2)), "split K for about 16 warps an SM, each range at least one chunk a lane");
        // 17 to 63 rows where gemm.cu's 64-row tiles would be fewer than the SMs: the skinny kernel, a block row per 16
        // rows (17 × 6912: 108 tiles; ECAR-L's stage-3 fc2 32 × 2736 → 1024: 16 tiles, here 2 block rows, K split 4 ways)
        gemm.linear(f32(17 * 6912, "y"), Precision.F32, bf16(17 * 1152, "c"), bf16(6912L * 1152, "w"), 17, 6912, 1152,
                Epilogue.of(f32(6912, "b"), Activation.NONE));
        assertEquals(new ecar.cuda.LaunchShape(864, 2, 1, 128, 1, 1, 0), rec.last().shape());
        gemm.linear(f32(32 * 1024, "y"), Precision.F32, bf16(32 * 2736, "h"), bf16(1024L * 2736, "w"), 32, 1024, 2736, Epilogue.of(null, Activation.NONE));
        c = rec.last();
        assertEquals("gemm_skinny_f32", c.kernel());
        assertEquals(new ecar.cuda.LaunchShape(512, 2, 1, 128, 1, 1, 0), c.shape());
        assertEquals(4, c.args()[c.args().length - ROPE - 1], "ksplit");
        // ... but not where the tiles fill the SMs (17 × 9000: 141 tiles) or from 64 rows
        gemm.linear(f32(17 * 9000, "y"), Precision.F32, bf16(17 * 1152, "c"), bf16(9000L * 1152, "w"), 17, 9000, 1152,
                Epilogue.of(f32(9000, "b"), Activation.NONE));
        c = rec.last();
        assertEquals("gemm_bf16_t64_f32", c.kernel());
        assertEquals(141, c.shape().gridX());
        assertEquals(1, c.shape().gridY());
        // ECAR_GEMM_SKINNY=plain (withSkinnySplit(false)): a warp per pair over all of K, up to 16 rows, for comparisons
        GemmKernels plain = new GemmKernels(rec, 132).withSkinnySplit(false);
        plain.linear(f32(6 * 1024, "y"), Precision.F32, bf16(6 * 2816, "h"), bf16(1024L * 2816, "w"), 6, 1024, 2816, Epilogue.of(null, Activation.NONE));
        assertEquals(new ecar.cuda.LaunchShape(128, 1, 1, 128, 1, 1, 0), rec.last().shape());
        assertEquals(1, rec.last().args()[rec.last().args().length - ROPE - 1], "ksplit");
        plain.linear(f32(32 * 1024, "y"), Precision.F32, bf16(32 * 2736, "h"), bf16(1024L * 2736, "w"), 32, 1024, 2736, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_bf16_t64_f32", rec.last().kernel(), "32 rows on gemm.cu's tiles");
        assertTrue(GemmKernels.skinnyTakes(63, 1024, 2736, 132) && !GemmKernels.skinnyTakes(64, 1024, 2736, 132) && GemmKernels.skinnyTakes(16, 100000, 4608, 132));
        assertTrue(GemmKernels.skinnyTakes(32, 5460, 1024, 132) && !GemmKernels.skinnyTakes(63, 8000, 4608, 132), "under 2^28 multiply-adds");
        assertEquals(Tile.T64, Tile.choose(85, 1000, 132));
        int many = 16 * 65535 + 1;
        String msg = message(() -> gemm.linearSkinny(f32(2L * many, "y"), Precision.F32, bf16(8L * many, "x"), bf16(16, "w"), many, 2, 8,
                Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("M = " + many) && msg.contains("65535 blocks of 16 rows"), msg);
    }

    @Test
    void gemmEpiloguesPassTheirOperands() {
        int m = 512, n = 1152, k = 4608;
        Fake y = f32((long) m * n, "resid"), gate = f32(2L * n, "gate");
        gemm.linear(y, Precision.F32, bf16((long) m * k, "h"), bf16((long) n * k, "w2"), m, n, k, Epilogue.residual(f32(n, "b2"), y, gate, 256));
        var c = rec.last();
        assertEquals(y, c.args()[4]);
        assertEquals(gate, c.args()[5]);
        assertEquals(GemmKernels.Post.RESIDUAL.ordinal(), c.args()[11]);
        assertEquals(256, c.args()[12]);
        Fake v = bf16((long) m * 2730, "value");
        gemm.linear(bf16((long) m * 2730, "h"), Precision.BF16, bf16((long) m * 1024, "x"), bf16(2730L * 1024, "wg"), m, 2730, 1024,
                Epilogue.gatedGelu(null, v));
        c = rec.last();
        assertEquals(v, c.args()[6]);
        assertEquals(Activation.GELU_ERF.ordinal(), c.args()[10]);
        assertEquals(GemmKernels.Post.MUL.ordinal(), c.args()[11]);
        // a gated MLP's hidden layer from interleaved gate and value rows: Y has half the columns; N must be even
        Fake hidden = bf16((long) m * 2730, "hidden");
        gemm.linear(hidden, Precision.BF16, bf16((long) m * 1024, "x"), bf16(5460L * 1024, "w13"), m, 5460, 1024,
                Epilogue.gatePairs(f32(5460, "b13"), Activation.GELU_ERF));
        assertEquals(GemmKernels.Post.GATE_PAIRS.ordinal(), rec.last().args()[11]);
        assertEquals(4, GemmKernels.Post.GATE_PAIRS.ordinal(), "POST_GATE_PAIRS in kernels/gemm_tile.cuh");
        String odd = message(() -> gemm.linear(hidden, Precision.BF16, bf16((long) m * 1024, "x"), bf16(5459L * 1024, "w"), m, 5459, 1024,
                Epilogue.gatePairs(null, Activation.SILU)));
        assertTrue(odd.contains("N = 5459 is odd"), odd);
        String small = message(() -> gemm.linear(bf16((long) m * 2729, "too small"), Precision.BF16, bf16((long) m * 1024, "x"), bf16(5460L * 1024, "w"),
                m, 5460, 1024, Epilogue.gatePairs(null, Activation.SILU)));
        assertTrue(small.contains("[" + m + ", 2730] bf16"), small);
        // measurement only: nothing stored (post 3), and nothing else taken
        gemm.linear(f32(256L * 128, "y"), Precision.F32, bf16(256L * 64, "x"), bf16(128L * 64, "w"), 256, 128, 64, Epilogue.discard());
        assertEquals(GemmKernels.Post.DISCARD.ordinal(), rec.last().args()[11]);
        assertEquals(3, GemmKernels.Post.DISCARD.ordinal(), "POST_DISCARD in kernels/gemm_tile.cuh");
    }

    @Test
    void wgmmaPathTakesTheModelShapesOnHopper() {
        // DiT-XL/2 fc1 at batch 64: 128 × 36 tiles of 128 × 128 on 132 SMs, persistent
        int m = 64 * 256, n = 4608, k = 1152;
        Fake x = bf16((long) m * k, "x"), w = bf16((long) n * k, "w");
        hopper.linear(bf16((long) m * n, "y"), Precision.BF16, x, w, m, n, k, Epilogue.of(f32(n, "b"), Activation.GELU_TANH));
        var c = rec.last();
        assertEquals("gemm_sm90", c.family());
        assertEquals("gemm_sm90_bf16_bf16", c.kernel());
        assertEquals(132, c.shape().gridX());
        assertEquals(1, c.shape().gridY());
        assertEquals(384, c.shape().blockX());
        assertEquals(GemmKernels.Sm90.SHARED_BYTES, c.shape().sharedBytes());
        assertEquals(Activation.GELU_TANH.ordinal(), c.args()[10]);
        // X: dims {K, M}, a row 2K bytes, boxes of 64 k × 128 rows, 128-byte swizzle; W likewise with N rows
        var tmX = (ecar.cuda.TensorMap) c.args()[0];
        var tmW = (ecar.cuda.TensorMap) c.args()[1];
        assertEquals(x.address(), tmX.spec().globalAddress());
        assertArrayEquals(new long[]{k, m}, tmX.spec().globalDim());
        assertArrayEquals(new long[]{2L * k}, tmX.spec().globalStrides());
        assertArrayEquals(new int[]{64, 128}, tmX.spec().boxDim());
        assertEquals(ecar.cuda.TensorMapSpec.Swizzle.B128, tmX.spec().swizzle());
        assertEquals(w.address(), tmW.spec().globalAddress());
        assertArrayEquals(new long[]{k, n}, tmW.spec().globalDim());
        assertEquals(2L * 2 * GemmKernels.Sm90.BM * GemmKernels.Sm90.BK, tmX.spec().boxBytes() + tmW.spec().boxBytes(),
                "a stage's transaction bytes (gemm_sm90's STAGE_BYTES: two bf16 boxes)");
        // fewer tiles than SMs (adaLN at batch 64: 1 × 54; the flow head at batch 1, stage 4: 4 × 24) → the mma.sync tiles,
        // measured faster there on an H100; 144 tiles (DiT-XL/2's fc1 at batch 1) stay on the wgmma kernel
        hopper.linear(f32(64L * 6912, "y"), Precision.F32, bf16(64L * 1152, "c"), bf16(6912L * 1152, "w"), 64, 6912, 1152, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm", rec.last().family());
        hopper.linear(f32(512L * 3072, "y"), Precision.F32, bf16(512L * 1024, "c"), bf16(3072L * 1024, "w"), 512, 3072, 1024, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm", rec.last().family());
        hopper.linear(f32(512L * 4608, "y"), Precision.F32, bf16(512L * 1152, "c"), bf16(4608L * 1152, "w"), 512, 4608, 1152, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_sm90_bf16_f32", rec.last().kernel());
        assertEquals(132, rec.last().shape().gridX());
        // ragged K (not a multiple of 64) and ragged M, N stay on the wgmma kernel: 9 × 16 tiles
        hopper.linear(f32(1085L * 2000, "y"), Precision.F32, bf16(1085L * 1000, "x"), bf16(2000L * 1000, "w"), 1085, 2000, 1000, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_sm90_bf16_f32", rec.last().kernel());
        assertEquals(132, rec.last().shape().gridX());
        // the epilogue's store width: rows unless pairs are asked for (kernel argument epi, the last but one), and the
        // consumers' schedule: ping-pong unless cooperative is asked for (coop, the last)
        Object[] args = rec.last().args();
        assertEquals(java.util.List.of(1, 0), java.util.List.of(args[args.length - ROPE - 2], args[args.length - ROPE - 1]));
        hopper.withRowStores(false).withCooperative(true).linear(f32(1085L * 2000, "y"), Precision.F32, bf16(1085L * 1000, "x"), bf16(2000L * 1000, "w"),
                1085, 2000, 1000, Epilogue.of(null, Activation.NONE));
        hopper.withRowStores(true).withCooperative(false);
        args = rec.last().args();
        assertEquals(java.util.List.of(0, 1), java.util.List.of(args[args.length - ROPE - 2], args[args.length - ROPE - 1]));
        if (System.getenv(GemmKernels.STORES_ENV) == null) assertTrue(GemmKernels.rowStoresSetting(), "row stores are the default");
    }

    @Test
    void wideTilesTakeTheShapesWithATileForEverySm() {
        // ECAR_GEMM_TILE=128x256: DiT-XL/2's qkv at batch 64 has 128 × 14 wide tiles on 132 SMs → gemm_sm90w, whose W map
        // reads 256 rows a box; a stage completes 16 KiB of X and 32 KiB of W (the kernel's 4 stages of 48 KiB)
        int m = 64 * 256, n = 3456, k = 1152;
        try {
            hopper.withWideTiles(true).linear(bf16((long) m * n, "y"), Precision.BF16, bf16((long) m * k, "x"), bf16((long) n * k, "w"), m, n, k,
                    Epilogue.of(null, Activation.NONE));
            var c = rec.last();
            assertEquals("gemm_sm90", c.family());
            assertEquals("gemm_sm90w_bf16_bf16", c.kernel());
            assertEquals(132, c.shape().gridX());
            assertEquals(GemmKernels.Sm90.SHARED_BYTES, c.shape().sharedBytes());
            var tmX = (ecar.cuda.TensorMap) c.args()[0];
            var tmW = (ecar.cuda.TensorMap) c.args()[1];
            assertArrayEquals(new int[]{64, 128}, tmX.spec().boxDim());
            assertArrayEquals(new int[]{64, 256}, tmW.spec().boxDim());
            assertEquals(48 * 1024, tmX.spec().boxBytes() + tmW.spec().boxBytes(), "a wide stage's transaction bytes");
            // 512 rows (batch 1): 4 × 12 wide tiles for 132 SMs → the 128 × 128 tiles' choice (gemm.cu here), and 144
            // plain tiles but 72 wide ones (DiT-XL/2's fc1 at batch 1) → gemm_sm90's 128 × 128 tile
            hopper.linear(bf16(512L * 3072, "y"), Precision.BF16, bf16(512L * 1024, "x"), bf16(3072L * 1024, "w"), 512, 3072, 1024,
                    Epilogue.of(null, Activation.NONE));
            assertEquals("gemm_bf16_t64_bf16", rec.last().kernel());
            hopper.linear(f32(512L * 4608, "y"), Precision.F32, bf16(512L * 1152, "c"), bf16(4608L * 1152, "w"), 512, 4608, 1152, Epilogue.of(null, Activation.NONE));
            assertEquals("gemm_sm90_bf16_f32", rec.last().kernel());
            assertTrue(GemmKernels.wideTakes(128 * 12, 256 * 11, 64, 132) && !GemmKernels.wideTakes(128 * 12, 256 * 11 - 256, 64, 132));
            // forced (GemmBench's sm90wide path): any shape; 16 wide tiles, one CTA each (no scratch here to split K into),
            // and where there is scratch, K in 6 ranges of 3 k-blocks (16 × 6 units for 132 SMs)
            hopper.linearSm90(bf16(512L * 1024, "y"), Precision.BF16, bf16(512L * 1152, "x"), bf16(1024L * 1152, "w"), 512, 1024, 1152,
                    Epilogue.of(null, Activation.NONE));
            assertEquals("gemm_sm90w_bf16_bf16", rec.last().kernel());
            assertEquals(16, rec.last().shape().gridX());
            assertEquals(new GemmKernels.Sm90.SplitK(6, 3), GemmKernels.Sm90.splitK(512, 1024, 1152, 132, GemmKernels.Sm90.WIDE_BN));
            assertEquals(96, GemmKernels.Sm90.shape(512, 1024, 6, 132, GemmKernels.Sm90.WIDE_BN).gridX());
        } finally {
            hopper.withWideTiles(false);
        }
        hopper.linear(bf16((long) m * n, "y"), Precision.BF16, bf16((long) m * k, "x"), bf16((long) n * k, "w"), m, n, k, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_sm90_bf16_bf16", rec.last().kernel(), "the 128 x 128 tiles unless wide ones are asked for");
    }

    @Test
    void clustersShareWsTileInHalvesOnAnEvenGrid() {
        // ECAR_GEMM_CLUSTER=on: DiT-XL/2's qkv at batch 64 (128 × 27 tiles) → gemm_sm90c on 66 clusters of two, W read
        // in boxes of 64 rows (each CTA loads its half, multicast to both); a stage still completes 32 KiB in each CTA
        int m = 64 * 256, n = 3456, k = 1152;
        try {
            hopper.withClusters(true).linear(bf16((long) m * n, "y"), Precision.BF16, bf16((long) m * k, "x"), bf16((long) n * k, "w"), m, n, k,
                    Epilogue.of(null, Activation.NONE));
            var c = rec.last();
            assertEquals("gemm_sm90c_bf16_bf16", c.kernel());
            assertEquals(132, c.shape().gridX());
            var tmX = (ecar.cuda.TensorMap) c.args()[0];
            var tmW = (ecar.cuda.TensorMap) c.args()[1];
            assertArrayEquals(new int[]{64, 128}, tmX.spec().boxDim());
            assertArrayEquals(new int[]{64, 64}, tmW.spec().boxDim());
            assertEquals(32 * 1024, tmX.spec().boxBytes() + 2 * tmW.spec().boxBytes(), "a stage's transaction bytes: X and both halves of W");
            // an odd grid is never launched: 3 m-tiles × 1 column tile = 2 pairs → 4 CTAs; and at most one CTA an SM
            assertEquals(4, GemmKernels.Sm90.clusterShape(300, 100, 1, 132).gridX());
            assertEquals(132, GemmKernels.Sm90.clusterShape(m, n, 1, 133).gridX());
            assertEquals(2, GemmKernels.Sm90.clusterShape(1, 1, 1, 132).gridX());
            // a device that holds fewer clusters at once than half its SMs (cuOccupancyMaxActiveClusters) gets no more
            Launcher capped = new Launcher() {
                public void launch(String family, String signature, ecar.cuda.LaunchShape shape, Object... args) {
                    rec.launch(family, signature, shape, args);
                }

                public int maxActiveClusters(String family, String signature, ecar.cuda.LaunchShape shape) {
                    assertEquals("gemm_sm90c_bf16_bf16", ecar.cuda.KernelSignature.parse(signature).name());
                    assertEquals(GemmKernels.Sm90.SHARED_BYTES, shape.sharedBytes(), "asked with the launch's shared memory");
                    // cuOccupancyMaxActiveClusters: the config's grid must be a multiple of the compiled cluster size
                    assertEquals(0, shape.gridX() % 2, "the occupancy query's grid " + shape);
                    return 60;
                }
            };
            new GemmKernels(capped, 132, GemmPath.WGMMA, spec -> new ecar.cuda.TensorMap(spec, new byte[ecar.cuda.TensorMap.BYTES])).withClusters(true)
                    .linear(bf16((long) m * n, "y"), Precision.BF16, bf16((long) m * k, "x"), bf16((long) n * k, "w"), m, n, k, Epilogue.of(null, Activation.NONE));
            assertEquals(120, rec.last().shape().gridX(), "60 clusters of two");
            // the few-tile shapes keep their cooperative consumers, unclustered
            hopper.linear(f32(512L * 1024, "y"), Precision.F32, bf16(512L * 1024, "x"), bf16(1024L * 1024, "w"), 512, 1024, 1024, Epilogue.of(null, Activation.NONE));
            assertTrue(!rec.last().kernel().startsWith("gemm_sm90c"), rec.last().kernel());
        } finally {
            hopper.withClusters(false);
        }
        // a kernel with compiled cluster dims (2, 1, 1) launches only on a grid of whole clusters: every gemm_sm90c launch
        for (var c : rec.calls) {
            if (c.kernel().startsWith("gemm_sm90c")) assertEquals(0, c.shape().gridX() % 2, c.kernel() + " on " + c.shape());
        }
        hopper.linear(bf16((long) m * n, "y"), Precision.BF16, bf16((long) m * k, "x"), bf16((long) n * k, "w"), m, n, k, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_sm90_bf16_bf16", rec.last().kernel(), "no clusters unless asked for");
        if (System.getenv(GemmKernels.CLUSTER_ENV) == null) assertTrue(!GemmKernels.CLUSTERS.flipped(), "clusters are off by default");
    }

    /** Every GemmBench shape (M, K, N) makes valid tensor maps and a launch of gemm_sm90 (what the bench's wgmma path runs). */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}x{1}x{2}")
    @org.junit.jupiter.params.provider.CsvSource({"16384, 1152, 3456", "16384, 1152, 1152", "16384, 1152, 4608", "16384, 4608, 1152",
            "64, 1152, 6912", "16384, 1152, 32", "16384, 1024, 3072", "16384, 1024, 1024", "16384, 1024, 5460", "16384, 2736, 1024",
            "64, 1024, 6144", "16384, 16, 1024", "16384, 1024, 16"})
    void everyGemmBenchShapeLaunchesOnTheWgmmaKernel(int m, int k, int n) {
        hopper.linearSm90(bf16((long) m * n, "y"), Precision.BF16, bf16((long) m * k, "x"), bf16((long) n * k, "w"), m, n, k,
                Epilogue.of(null, Activation.NONE));
        var c = rec.last();
        assertEquals("gemm_sm90_bf16_bf16", c.kernel());
        long tiles = (long) OpCheck.ceilDiv(m, 128) * OpCheck.ceilDiv(n, 128);
        assertEquals(Math.min(tiles, 132), c.shape().gridX());
    }

    @Test
    void wgmmaPathFallsBackToMmaSyncWhereItShould() {
        int before = maps.size();
        // N = 32 (DiT's final layer), M = 1 (adaLN at batch 1): mostly-empty 128 × 128 tiles → the mma.sync tiles
        hopper.linear(f32(512L * 32, "y"), Precision.F32, bf16(512L * 1152, "x"), bf16(32L * 1152, "w"), 512, 32, 1152, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_bf16_t64_f32", rec.last().kernel());
        hopper.linear(f32(6912, "y"), Precision.F32, bf16(1152, "c"), bf16(6912L * 1152, "w"), 1, 6912, 1152, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_skinny", rec.last().family(), "one row: the skinny kernel on every path");
        assertEquals(before, maps.size(), "no tensor map for a launch that does not use one");
        assertTrue(GemmKernels.wgmmaTakes(64, 64, 8, 1) && GemmKernels.wgmmaTakes(128 * 12, 128 * 11, 64, 132));
        assertTrue(!GemmKernels.wgmmaTakes(63, 4096, 1024, 1) && !GemmKernels.wgmmaTakes(4096, 4096, 1020, 1));
        assertTrue(!GemmKernels.wgmmaTakes(128 * 12, 128 * 11, 64, 133), "132 tiles on 133 SMs");
        // batch 1's 512-row GEMMs (96 tiles): gemm.cu on an instance built without the setting; gemm_sm90 with
        // cooperative consumers when asked (forDevice's default, ECAR_GEMM_SMALL=coop), K split only where the tiles
        // leave over half the SMs idle; the mostly-empty N = 32 stays on gemm.cu either way
        hopper.linear(bf16(512L * 3072, "y"), Precision.BF16, bf16(512L * 1024, "x"), bf16(3072L * 1024, "w"), 512, 3072, 1024, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_bf16_t64_bf16", rec.last().kernel());
        hopper.withSmallOnSm90(true).linear(bf16(512L * 3072, "y"), Precision.BF16, bf16(512L * 1024, "x"), bf16(3072L * 1024, "w"), 512, 3072, 1024,
                Epilogue.of(null, Activation.NONE));
        var small = rec.last();
        assertEquals("gemm_sm90_bf16_bf16", small.kernel());
        assertEquals(96, small.shape().gridX(), "one CTA a tile");
        Object[] sa = small.args();   // ..., ws, splits, kPer, epi, coop
        assertEquals(java.util.List.of(1, 16, 1), java.util.List.of(sa[sa.length - ROPE - 4], sa[sa.length - ROPE - 3], sa[sa.length - ROPE - 1]),
                "one K range of 16 k-blocks, cooperative");
        hopper.linear(f32(512L * 32, "y"), Precision.F32, bf16(512L * 1152, "x"), bf16(32L * 1152, "w"), 512, 32, 1152, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_bf16_t64_f32", rec.last().kernel());
        hopper.linear(bf16(16384L * 3072, "y"), Precision.BF16, bf16(16384L * 1024, "x"), bf16(3072L * 1024, "w"), 16384, 3072, 1024, Epilogue.of(null, Activation.NONE));
        assertEquals(0, rec.last().args()[rec.last().args().length - ROPE - 1], "tiles enough for every SM: ping-pong as before");
        hopper.withSmallOnSm90(false);
        // the mma.sync path never launches gemm_sm90, and says why when asked to
        gemm.linear(bf16(16384L * 4608, "y"), Precision.BF16, bf16(16384L * 1152, "x"), bf16(4608L * 1152, "w"), 16384, 4608, 1152, Epilogue.of(null, Activation.NONE));
        assertEquals("gemm_bf16_t128_bf16", rec.last().kernel());
        String msg = message(() -> gemm.linearSm90(f32(128L * 128, "y"), Precision.F32, bf16(128L * 64, "x"), bf16(128L * 64, "w"), 128, 128, 64,
                Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("compute capability 9.0") && msg.contains("mma.sync path"), msg);
    }

    @Test
    void wgmmaKernelValidatesLikeTheOthers() {
        int m = 256, n = 256, k = 1152;
        Fake x = bf16((long) m * k, "x"), w = bf16((long) n * k, "w"), y = f32((long) m * n, "y");
        String msg = message(() -> hopper.linearSm90(y, Precision.F32, x.shifted(8), w, m, n, k, Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.startsWith("gemm_sm90") && msg.contains("X 'x'") && msg.contains("16-byte aligned"), msg);
        msg = message(() -> hopper.linearSm90(y, Precision.F32, x, w, m, n, 1148, Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("K = 1148") && msg.contains("multiple of 8"), msg);
        msg = message(() -> hopper.linearSm90(y, Precision.F32, x, w, m, n, k, Epilogue.residual(null, y, f32(n, "gate"), 3)));
        assertTrue(msg.contains("gateRatio = 3"), msg);
        Fake v = bf16((long) m * n, "value");
        hopper.linearSm90(bf16((long) m * n, "h"), Precision.BF16, x, w, m, n, k, Epilogue.gatedGelu(f32(n, "bg"), v));
        var c = rec.last();
        assertEquals(v, c.args()[6]);
        assertEquals(GemmKernels.Post.MUL.ordinal(), c.args()[11]);
        hopper.linearSm90(y, Precision.F32, x, w, m, n, k, Epilogue.residual(f32(n, "b2"), y, f32(n, "gate"), 256));
        c = rec.last();
        assertEquals(y, c.args()[2]);
        assertEquals(y, c.args()[4]);
        assertEquals(256, c.args()[12]);
        assertThrows(IllegalArgumentException.class, () -> new GemmKernels(rec, 132, GemmPath.WGMMA, null));
    }

    @Test
    void gemmPathFromTheDeviceAndTheSetting() {
        assertEquals(GemmPath.WGMMA, GemmPath.choose(9, 0, null));
        assertEquals(GemmPath.WGMMA, GemmPath.choose(9, 0, " Auto "));
        assertEquals(GemmPath.MMA_SYNC, GemmPath.choose(9, 0, "mma.sync"));
        assertEquals(GemmPath.MMA_SYNC, GemmPath.choose(8, 9, null));
        assertEquals(GemmPath.MMA_SYNC, GemmPath.choose(10, 0, ""), "Blackwell would JIT compute_90 PTX, in which gemm_sm90 traps");
        assertEquals(GemmPath.WGMMA, GemmPath.choose(9, 0, "wgmma"));
        String msg = message(() -> GemmPath.choose(8, 0, "wgmma"));
        assertTrue(msg.contains("compute capability 9.0") && msg.contains("8.0"), msg);
        msg = message(() -> GemmPath.choose(9, 0, "cublas"));
        assertTrue(msg.contains("'cublas'") && msg.contains("auto, wgmma or mma.sync"), msg);
        assertEquals(GemmPath.MMA_SYNC, GemmPath.of("mma.sync"));
        var device = new ecar.cuda.CudaProbe.Device(0, "H100", 9, 0, 80L << 30, 132);
        String old = System.getProperty(GemmPath.PROPERTY);
        try {
            System.setProperty(GemmPath.PROPERTY, "mma.sync");
            assertEquals(GemmPath.MMA_SYNC, GemmKernels.forDevice(rec, device).path());
            System.setProperty(GemmPath.PROPERTY, "auto");
            assertEquals(GemmPath.WGMMA, GemmKernels.forDevice(rec, device).path());
        } finally {
            if (old == null) System.clearProperty(GemmPath.PROPERTY);
            else System.setProperty(GemmPath.PROPERTY, old);
        }
    }

    // ------------------------------------------------------------------ conv, norm, embed, diffusion

    @Test
    void convRequiresChannelsInEights() {
        String msg = message(() -> conv.conv3x3(f32(32L * 32 * 128, "y"), Precision.F32, bf16(32L * 32 * 4, "z"), bf16(128L * 9 * 4, "w"),
                null, null, 1, 32, 32, 4, 128, Activation.NONE));
        assertTrue(msg.contains("Ci = 4") && msg.contains("multiple of 8"), msg);
        conv.conv3x3(bf16(2L * 64 * 64 * 512, "y"), Precision.BF16, bf16(2L * 64 * 64 * 512, "x"), bf16(512L * 9 * 512, "w"),
                f32(512, "b"), null, 2, 64, 64, 512, 512, Activation.NONE);
        var c = rec.last();
        assertEquals("conv3x3_bf16_t128_bf16", c.kernel());
        assertEquals(4, c.shape().gridX());
        assertEquals(64, c.shape().gridY());
        conv.upsampleNearest2x(f32(4L * 8 * 8 * 16, "up"), f32(8 * 8 * 16, "x"), Precision.F32, 1, 8, 8, 16);
        assertEquals("upsample_nearest2x_f32", rec.last().kernel());
    }

    @Test
    void normChecksModulationAndGroups() {
        int rows = 512, d = 1152;
        Fake ada = f32(2L * 6 * d, "adaLN");
        norm.rowsModulated(bf16((long) rows * d, "h"), Precision.BF16, f32((long) rows * d, "x"), ada, ada.shifted(4L * d), 6 * d,
                rows, d, Norm.LAYER, 1e-6f, 256);
        var c = rec.last();
        assertEquals("norm_rows_bf16", c.kernel());
        assertEquals(64, c.shape().gridX());
        String msg = message(() -> norm.rowsModulated(bf16((long) rows * d, "h"), Precision.BF16, f32((long) rows * d, "x"), ada, ada, 6 * d,
                rows, d, Norm.LAYER, 1e-6f, 3));
        assertTrue(msg.contains("ratio = 3"), msg);
        msg = message(() -> norm.groupNorm(f32(64L * 2048, "o"), Precision.F32, f32(64L * 2048, "x"), Fake.of(16 * 32, "s"),
                f32(2048, "w"), f32(2048, "b"), 1, 64, 2048, 32, 1e-6f, true));
        assertTrue(msg.contains("C = 2048"), msg);
        int before = rec.calls.size();
        norm.groupNorm(bf16(256L * 256 * 128, "o"), Precision.BF16, f32(256L * 256 * 128, "x"), Fake.of(NormKernels.statsBytes(1, 32), "s"),
                f32(128, "w"), f32(128, "b"), 1, 256 * 256, 128, 32, 1e-6f, true);
        assertEquals(before + 3, rec.calls.size());
        assertEquals("groupnorm_zero", rec.calls.get(before).kernel());
        assertEquals("groupnorm_stats", rec.calls.get(before + 1).kernel());
        assertEquals(8 * 128, rec.calls.get(before + 1).shape().sharedBytes());
        assertEquals(1024, rec.calls.get(before + 1).shape().gridX());
        assertEquals("groupnorm_apply_bf16", rec.calls.get(before + 2).kernel());
    }

    /**
     * gemm_skinny's norm entries (ECAR_NORM_PROLOGUE=on): which norms they take, their launch (the skinny grid, the
     * block's bf16 rows in dynamic shared memory, the norm's operands after ksplit), and what they refuse.
     */
    @Test
    void normPrologueTakesFewAlignedRowsOnSkinnyShapesOnly() {
        GemmKernels fused = new GemmKernels(rec, 132).withNormPrologue(true);
        int d = 1024;
        Fake ada = f32(2L * 6 * d, "adaLN"), x2 = f32(2L * d, "x");
        Fake shift = new Fake(ada.address() + 4L * 4 * d, ada.bytes() - 4L * 4 * d, "shift chunk"), scale = new Fake(ada.address() + 4L * 2 * d,
                ada.bytes() - 4L * 2 * d, "scale chunk");
        // ECAR-L's first stage, guided: 2 rows, adaLN chunks read in place (stride 6d), into the fused qkv (ksplit 2)
        NormInput in = NormInput.modulated(x2, shift, scale, 6 * d, 2, d, Norm.RMS, 1e-6f, 1);
        assertTrue(fused.mayFuseNorm(in) && fused.fusesNorm(in, 3072));
        assertFalse(gemm.mayFuseNorm(in), "off unless asked for");
        fused.linearNormed(bf16(2L * 3072, "qkv"), Precision.BF16, in, bf16(3072L * d, "w"), 3072, Epilogue.of(f32(3072, "b"), Activation.NONE));
        var c = rec.last();
        assertEquals("gemm_skinny", c.family());
        assertEquals("gemm_skinny_norm_bf16", c.kernel());
        assertEquals(new ecar.cuda.LaunchShape(768, 1, 1, 128, 1, 1, 2 * 2 * d), c.shape(), "the skinny grid, 2 rows of 1024 bf16 in shared memory");
        Object[] a = c.args();
        assertEquals(x2, a[1], "the norm's x in X's place");
        assertEquals(2, a[14], "ksplit");
        assertEquals(java.util.List.of(shift, scale, 6 * d, Norm.RMS.ordinal(), 1e-6f, 1),
                java.util.Arrays.asList(a).subList(16, 22), "shift, scale, modStride, kind, eps, ratio");
        assertNull(a[15], "no norm weight with adaLN");
        // ARPG-L: 8 rows of 1024 with a weight, into the fc1 pairs (GATE_PAIRS), f32 out
        NormInput arpg = NormInput.weighted(f32(8L * d, "x8"), f32(d, "g"), 8, d, Norm.RMS, 1e-5f);
        fused.linearNormed(f32(8L * 2816, "h"), Precision.F32, arpg, bf16(5632L * d, "w13"), 5632, Epilogue.gatePairs(null, Activation.SILU));
        assertEquals("gemm_skinny_norm_f32", rec.last().kernel());
        assertEquals(8 * d * 2, rec.last().shape().sharedBytes());
        // refused: more rows than the prologue takes, rows past the register path, misaligned or odd widths, a Y over x
        assertFalse(fused.mayFuseNorm(NormInput.weighted(f32(9L * d, "x9"), null, 9, d, Norm.RMS, 1e-5f)), "9 rows");
        assertFalse(fused.mayFuseNorm(NormInput.weighted(f32(2L * 2056, "xw"), null, 2, 2056, Norm.RMS, 1e-5f)), "2056 columns");
        assertFalse(fused.mayFuseNorm(NormInput.weighted(f32(2L * 1028, "xo"), null, 2, 1028, Norm.RMS, 1e-5f)), "1028 columns: not whole chunks of 8");
        assertFalse(fused.mayFuseNorm(NormInput.weighted(f32(2L * d + 4, "xm").shifted(4), null, 2, d, Norm.RMS, 1e-5f)), "x 4 bytes off 16");
        assertFalse(fused.mayFuseNorm(NormInput.modulated(x2, ada.shifted(4), ada.shifted(8), 6 * d, 2, d, Norm.RMS, 1e-6f, 1)), "shift off 16");
        assertTrue(fused.mayFuseNorm(NormInput.weighted(f32(2L * 2048, "x2048"), null, 2, 2048, Norm.LAYER, 1e-5f)), "LayerNorm, 2048 columns");
        String msg = message(() -> fused.linearNormed(bf16(9L * 64, "y"), Precision.BF16, NormInput.weighted(f32(9L * d, "x9"), null, 9, d, Norm.RMS, 1e-5f),
                bf16(64L * d, "w"), 64, Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("gemm_skinny_norm") && msg.contains("up to 8 rows"), msg);
        msg = message(() -> gemm.linearNormed(bf16(2L * 64, "y"), Precision.BF16, in, bf16(64L * d, "w"), 64, Epilogue.of(null, Activation.NONE)));
        assertTrue(msg.contains("ECAR_NORM_PROLOGUE=on"), msg);
        Fake stream = f32(2L * d, "stream");
        NormInput own = NormInput.weighted(stream, null, 2, d, Norm.RMS, 1e-5f);
        msg = message(() -> fused.linearNormed(stream, Precision.F32, own, bf16((long) d * d, "w"), d, Epilogue.residual(null, stream, null, 1, 0)));
        assertTrue(msg.contains("overlaps the norm's x"), msg);
        assertTrue(fused.fusesNorm(own, d) && !fused.fusesNorm(own, d, stream) && fused.fusesNorm(own, d, f32(2L * d, "elsewhere")),
                "x += f(norm(x)) is left to norm_rows then the GEMM");
        // up to 16 rows when asked (NormPrologueGpuBench): one block row, 16 rows of bf16 in shared memory
        NormInput sixteen = NormInput.weighted(f32(16L * d, "x16"), null, 16, d, Norm.RMS, 1e-5f);
        assertFalse(fused.mayFuseNorm(sixteen), "16 rows: past the default");
        fused.withNormPrologueRows(16).linearNormed(bf16(16L * 3072, "y16"), Precision.BF16, sixteen, bf16(3072L * d, "w16"), 3072, Epilogue.of(null, Activation.NONE));
        assertEquals(new ecar.cuda.LaunchShape(768, 1, 1, 128, 1, 1, 16 * d * 2), rec.last().shape());
        assertTrue(message(() -> fused.withNormPrologueRows(17)).contains("expected 1 to 16"));
    }

    @Test
    void embedAndDiffusionLaunches() {
        String msg = message(() -> embed.timestep(f32(3 * 255, "o"), f32(3, "t"), 3, 255));
        assertTrue(msg.contains("255") && msg.contains("even"), msg);
        msg = message(() -> embed.patchify(bf16(4 * 30 * 30, "o"), Precision.BF16, f32(4 * 30 * 30, "x"), 1, 4, 30, 30, 4));
        assertTrue(msg.contains("30×30"), msg);
        embed.transpose(f32(2 * 4 * 1024, "o"), f32(2 * 4 * 1024, "x"), 2, 4, 1024);
        assertEquals(32, rec.last().shape().gridX());
        assertEquals(1, rec.last().shape().gridY());
        assertEquals(2, rec.last().shape().gridZ());
        embed.resizeBicubic(f32(16 * 16 * 16, "o"), f32(4 * 4 * 16, "x"), 1, 4, 4, 16, 16, 16);
        embed.resizeArea(f32(8 * 8 * 16, "o"), f32(16 * 16 * 16, "x"), 1, 16, 16, 16, 8, 8);
        embed.unpatchify(f32(2 * 8 * 32 * 32, "o"), f32(2 * 8 * 32 * 32, "x"), 2, 2, 8, 16, 16);

        int b = 4, c = 4, hw = 1024;
        msg = message(() -> diff.ddpmStep(f32(b * c * hw, "x"), f32(b * c * hw, "out"), b, c, hw, PosteriorVariance.LEARNED_RANGE, true, 3, 4f, K,
                false, 1, 2));
        assertTrue(msg.contains("modelOut") && msg.contains("[4, 8, 1024]"), msg);
        diff.ddpmStep(f32(b * c * hw, "x"), f32(2 * b * c * hw, "out"), b, c, hw, PosteriorVariance.LEARNED_RANGE, true, 3, 4f, K, false, 7, 9);
        var call = rec.last();
        assertEquals("ddpm_step", call.kernel());
        assertEquals(0, call.args()[5]);   // variance: learned
        assertEquals(2, call.args()[6]);   // half
        assertEquals(-4.5f, call.args()[17]);   // the ninth coefficient, FIXED_LARGE's log-variance
        assertEquals(7L, call.args()[19]);
        // a fixed variance: the model output is ε alone, [B, C, HW]
        diff.ddpmStep(f32(b * c * hw, "x"), f32(b * c * hw, "out"), b, c, hw, PosteriorVariance.FIXED_LARGE, true, 3, 4f, K, true, 7, 9);
        assertEquals(1, rec.last().args()[5]);
        diff.ddimStep(f32(b * c * hw, "x"), f32(2 * b * c * hw, "out"), b, c, hw, PosteriorVariance.LEARNED_RANGE, false, 0, 1f, K);
        assertEquals(0, rec.last().args()[6]);
        diff.ddimStep(f32(b * c * hw, "x"), f32(b * c * hw, "out"), b, c, hw, PosteriorVariance.FIXED_SMALL, false, 0, 1f, K);
        assertEquals(2, rec.last().args()[5]);
        diff.posterior(f32(16, "m"), f32(16, "l"), f32(16, "x0"), f32(16, "x"), f32(32, "o"), 1, 4, 4, PosteriorVariance.LEARNED_RANGE, K);
        diff.posterior(f32(16, "m"), f32(16, "l"), f32(16, "x0"), f32(16, "x"), f32(16, "o"), 1, 4, 4, PosteriorVariance.FIXED_LARGE, K);
        assertEquals(1, rec.last().args()[8]);
        msg = message(() -> diff.posterior(f32(16, "m"), f32(16, "l"), f32(16, "x0"), f32(16, "x"), f32(16, "o"), 1, 4, 4,
                PosteriorVariance.LEARNED_RANGE, K));
        assertTrue(msg.contains("modelOut") && msg.contains("[1, 8, 4]"), msg);
        diff.ddpmSample(f32(16, "x"), f32(16, "m"), f32(16, "l"), null, 16, false, 3, 4);
        diff.ddimSample(f32(16, "x"), f32(16, "x0"), 16, K);
        // the device-scalar variants a captured step launches (StepScalars.words() layout)
        embed.timestepDev(f32(3 * 256, "o"), f32(1, "t"), 3, 256);
        assertEquals("timestep_embedding_dev", rec.last().kernel());
        diff.posteriorDev(f32(16, "m"), f32(16, "l"), f32(16, "x0"), f32(16, "x"), f32(32, "o"), 1, 4, 4, PosteriorVariance.LEARNED_RANGE, f32(9, "coef"));
        diff.posteriorDev(f32(16, "m"), f32(16, "l"), f32(16, "x0"), f32(16, "x"), f32(16, "o"), 1, 4, 4, PosteriorVariance.FIXED_SMALL, f32(9, "coef"));
        assertEquals(2, rec.last().args()[8]);
        diff.ddpmSampleDev(f32(16, "x"), f32(16, "m"), f32(16, "l"), 16, false, f32(3, "noise"));
        assertEquals(1, rec.last().args()[4]);   // hasNoise
        diff.ddimSampleDev(f32(16, "x"), f32(16, "x0"), 16, f32(9, "coef"));
        msg = message(() -> diff.ddimSampleDev(f32(16, "x"), f32(16, "x0"), 16, f32(8, "coef")));
        assertTrue(msg.contains("coef") && msg.contains("9 f32"), msg);
        diff.cfgCombineChannels(f32(2 * 8 * 16, "o"), 2, 8, 16, 3, 4f);
        assertEquals("cfg_combine_channels", rec.last().kernel());
        int launches = rec.calls.size();
        diff.cfgCombineChannels(f32(2 * 8 * 16, "o"), 2, 8, 16, 0, 4f);
        assertEquals(launches, rec.calls.size(), "no guided channels: nothing to launch");
    }

    @Test
    void elementwiseAndEmbeddingLaunches() {
        int rows = 512, w = 1152;
        String msg = message(() -> ew.add(f32((long) rows * w, "o"), Precision.F32, f32((long) rows * w, "a"), f32(2L * w, "b"), rows, w, 3));
        assertTrue(msg.contains("ratio = 3"), msg);
        ew.add(f32((long) rows * w, "o"), Precision.F32, f32((long) rows * w, "a"), f32(2L * w, "b"), rows, w, 256);
        assertEquals("add_grouped_f32", rec.last().kernel());
        ew.mul(bf16(1000, "o"), Precision.BF16, f32(1000, "a"), f32(1000, "b"), 1000);
        assertEquals("mul_bf16", rec.last().kernel());
        msg = message(() -> ew.addTiled(f32(1000, "o"), Precision.F32, f32(1000, "a"), f32(300, "pos"), 1000, 300));
        assertTrue(msg.contains("300 elements cannot tile 1000"), msg);
        ew.addTiled(f32(1024, "o"), Precision.F32, f32(1024, "a"), f32(256, "pos"), 1024, 256);
        ew.silu(bf16(64 * 1152, "o"), Precision.BF16, f32(64 * 1152, "c"), 64 * 1152);
        ew.gatedResidual(f32((long) rows * w, "x"), f32((long) rows * w, "x"), f32(2L * w, "g"), f32((long) rows * w, "y"), rows, w, 256);
        assertEquals("gated_residual", rec.last().kernel());
        ew.spinGate(200_000);
        assertEquals("spin_gate", rec.last().kernel());
        assertEquals(1, rec.last().shape().gridX());
        msg = message(() -> ew.spinGate(-1));
        assertTrue(msg.contains("nanos = -1"), msg);
        msg = message(() -> embed.embedding(f32(2 * 1152, "o"), bf16(1001 * 1152, "table"), Precision.BF16, 1001, 1152, Fake.of(8, "ids"), new int[]{3, 1001}));
        assertTrue(msg.contains("id 1001") && msg.contains("1001 rows"), msg);
        embed.embedding(f32(2 * 1152, "o"), bf16(1001 * 1152, "table"), Precision.BF16, 1001, 1152, Fake.of(8, "ids"), new int[]{3, 1000});
        assertEquals("embedding_bf16", rec.last().kernel());
        embed.embeddingByDeviceIds(f32(6 * 1152, "o"), bf16(1001 * 1152, "table"), Precision.BF16, 1001, 1152, f32(6, "ids"), 6);
        assertEquals("embedding_ids_bf16", rec.last().kernel());
        msg = message(() -> embed.embeddingByDeviceIds(f32(6 * 1152, "o"), f32(1001 * 1152, "table"), Precision.F32, 1001, 1152, f32(5, "ids"), 6));
        assertTrue(msg.contains("ids 'ids'") && msg.contains("[6] f32"), msg);
        norm.softmaxRows(bf16(256 * 256, "p"), Precision.BF16, f32(256 * 256, "s"), 256, 256, 0.044f);
        assertEquals("softmax_rows_bf16", rec.last().kernel());
        assertEquals(32, rec.last().shape().gridX());
        msg = message(() -> norm.softmaxRows(f32(16, "p"), Precision.F32, f32(16, "s"), 4, 4, 0f));
        assertTrue(msg.contains("scale = 0.0"), msg);
        embed.transpose(bf16(256 * 512, "vT"), Precision.BF16, f32(256 * 512, "v"), 1, 256, 512);
        assertEquals("transpose_batched_bf16", rec.last().kernel());
    }

    @Test
    void tokenSamplingAndRopeRowsLaunches() {
        int rows = 2 * 28, v = 16384;
        Fake logits = f32(2L * rows * v, "logits"), guided = f32((long) rows * v, "guided");
        sample.guide(guided, logits, (long) rows * v, 5f, 0f);
        var c = rec.last();
        assertEquals("guide_logits", c.kernel());
        assertEquals(1e-5f, c.args()[4], "temperature 0 divides by 1e-5 as the reference does");
        String msg = message(() -> sample.guide(f32(10, "o"), f32(10, "l"), 10, 2f, 1f));
        assertTrue(msg.contains("logits 'l'") && msg.contains("[2 × 10] f32"), msg);
        sample.filter(guided, rows, v, 0, 0.9f);
        assertEquals("filter_top_k_top_p", rec.last().kernel());
        assertEquals(rows, rec.last().shape().gridX());
        assertEquals(SampleKernels.THREADS, rec.last().shape().blockX());
        msg = message(() -> sample.filter(guided, rows, v, 5, 0f));
        assertTrue(msg.contains("top-p 0.0"), msg);
        sample.draw(f32(rows, "ids"), guided, rows, v, 7L, 3);
        c = rec.last();
        assertEquals("categorical_draw", c.kernel());
        assertEquals(7L, c.args()[4]);
        Fake scalars = f32(12, "step scalars");
        sample.drawDev(f32(rows, "ids"), guided, rows, v, f32(3, "noise"));
        assertEquals("categorical_draw_dev", rec.last().kernel());
        msg = message(() -> sample.drawDev(f32(rows, "ids"), guided, rows, v, f32(2, "noise")));
        assertTrue(msg.contains("noise 'noise'") && msg.contains("seed low, seed high, stream"), msg);
        sample.guideDev(guided, logits, (long) rows * v, scalars, 0f);
        assertEquals("guide_logits_dev", rec.last().kernel());
        assertEquals(1e-5f, rec.last().args()[4]);
        msg = message(() -> sample.draw(f32(rows - 1, "ids"), guided, rows, v, 7L, 3));
        assertTrue(msg.contains("ids 'ids'") && msg.contains("[56] f32"), msg);
        Fake arena = Fake.of(1 << 20, "arena");
        msg = message(() -> sample.draw(new Fake(arena.address(), 4L * 4, "ids"), new Fake(arena.address(), 4L * 4 * 8, "logits"), 4, 8, 1L, 1));
        assertTrue(msg.contains("overlaps"), msg);
        embed.ropeRows(f32(2 * 3 * 64, "o"), f32(2 * 3 * 64, "x"), f32(3, "rows"), 2, 3, 64, 16, f32(257 * 8, "cos"), f32(257 * 8, "sin"), 257);
        assertEquals("rope_rows_f32", rec.last().kernel());
        assertEquals(1, rec.last().shape().gridX());
        msg = message(() -> embed.ropeRows(f32(2 * 3 * 64, "o"), f32(2 * 3 * 64, "x"), f32(2, "rows"), 2, 3, 64, 16, f32(257 * 8, "cos"),
                f32(257 * 8, "sin"), 257));
        assertTrue(msg.contains("rows 'rows'") && msg.contains("[3] f32"), msg);
    }

    // ------------------------------------------------------------------ the wrappers name real entry points

    private static final Pattern ENTRY = Pattern.compile("ECAR_KERNEL void(?: __launch_bounds__\\([^)]*\\))?\\s+(\\w+)\\(|_ENTRY\\((\\w+),|EW_PAIR\\((\\w+),");

    // ------------------------------------------------------------------ split K on Hopper

    @Test
    void splitKCutsKOnlyWhereFewTilesLeaveSmsIdle() {
        assertEquals(new GemmKernels.Sm90.SplitK(1, 18), GemmKernels.Sm90.splitK(16384, 1152, 1152, 132), "batch 64: tiles enough");
        assertEquals(new GemmKernels.Sm90.SplitK(1, 18), GemmKernels.Sm90.splitK(512, 4608, 1152, 132), "144 tiles");
        assertEquals(new GemmKernels.Sm90.SplitK(4, 4), GemmKernels.Sm90.splitK(512, 1024, 1024, 132), "32 tiles: 4 ranges of 4 k-tiles");
        assertEquals(new GemmKernels.Sm90.SplitK(15, 3), GemmKernels.Sm90.splitK(128, 1024, 2736, 132), "8 tiles, 43 k-tiles: 15 ranges of 3, none empty");
        assertEquals(new GemmKernels.Sm90.SplitK(1, 3), GemmKernels.Sm90.splitK(128, 128, 136, 132), "3 k-tiles: too short to cut");
        for (int[] mnk : new int[][]{{128, 1024, 2736}, {200, 300, 1000}, {64, 64, 4096}, {130, 129, 520}}) {
            GemmKernels.Sm90.SplitK s = GemmKernels.Sm90.splitK(mnk[0], mnk[1], mnk[2], 132);
            int kTiles = (mnk[2] + 63) / 64;
            assertTrue(s.splits() * s.kPer() >= kTiles && (s.splits() - 1) * s.kPer() < kTiles, "ranges cover K, none empty: " + s);
            assertTrue(s.splits() <= GemmKernels.Sm90.MAX_SPLITS && (s.splits() == 1 || s.kPer() >= GemmKernels.Sm90.MIN_RANGE), s.toString());
        }
    }

    @Test
    void splitKLaunchesTheRangesThenTheReduceWithTheEpilogue() {
        long[] leased = {0};
        int[] open = {0};
        GemmKernels split = new GemmKernels(rec, 132, GemmPath.WGMMA, spec -> new ecar.cuda.TensorMap(spec, new byte[ecar.cuda.TensorMap.BYTES]),
                (count, label) -> {
                    leased[0] = count;
                    open[0]++;
                    Fake ws = f32(count, label);
                    return new GemmKernels.Scratch.Lease() {
                        public ecar.cuda.DeviceAddress address() {
                            return ws;
                        }

                        public void close() {
                            open[0]--;
                        }
                    };
                });
        int m = 128, n = 1024, k = 2736;
        Fake x = bf16((long) m * k, "x"), w = bf16((long) n * k, "w"), y = f32((long) m * n, "y"), gate = f32(n, "gate"), bias = f32(n, "bias");
        int before = rec.calls.size();
        split.linearSm90(y, Precision.F32, x, w, m, n, k, Epilogue.residual(bias, y, gate, m));
        assertEquals(15L * m * n, leased[0], "15 ranges of partial sums");
        assertEquals(0, open[0], "the workspace is handed back once both launches are queued");
        var gemmCall = rec.calls.get(before);
        var reduce = rec.calls.get(before + 1);
        assertEquals("gemm_sm90_bf16_f32", gemmCall.kernel());
        assertEquals(new ecar.cuda.LaunchShape(120, 1, 1, 384, 1, 1, GemmKernels.Sm90.SHARED_BYTES), gemmCall.shape(), "8 tiles × 15 ranges");
        assertEquals(null, gemmCall.args()[3], "the ranges store raw sums: no bias ...");
        assertEquals(0, gemmCall.args()[11], "... no post step");
        assertEquals("gemm_splitk_reduce_f32", reduce.kernel());
        assertEquals(new ecar.cuda.LaunchShape(2, 128, 1, 256, 1, 1, 0), reduce.shape());
        assertEquals(y, reduce.args()[0]);
        assertEquals(bias, reduce.args()[3], "the reduce applies the epilogue: bias ...");
        assertEquals(y, reduce.args()[4], "... the residual (in place) ...");
        assertEquals(gate, reduce.args()[5], "... and the gate");
        assertEquals(2, rec.calls.size() - before);
        split.linearSm90(f32(16384L * 1024, "big y"), Precision.F32, bf16(16384L * 1024, "big x"), bf16(1024L * 1024, "big w"), 16384, 1024, 1024,
                Epilogue.of(null, ecar.backend.Activation.NONE));
        assertEquals(before + 3, rec.calls.size(), "enough tiles: one launch, no workspace");
        // ECAR_GEMM_SMALL=coop on DiT-XL/2's fc2 at batch 1: 36 tiles, so K = 4608 in 3 ranges, cooperative, then the reduce
        before = rec.calls.size();
        split.withSmallOnSm90(true).linear(bf16(512L * 1152, "y"), Precision.BF16, bf16(512L * 4608, "x"), bf16(1152L * 4608, "w"), 512, 1152, 4608,
                Epilogue.of(null, Activation.NONE));
        assertEquals(before + 2, rec.calls.size(), "the split product, then gemm_splitk_reduce");
        var coop = rec.calls.get(before);
        Object[] ka = coop.args();   // ..., ws, splits, kPer, epi, coop
        assertEquals(108, coop.shape().gridX(), "36 tiles × 3 ranges");
        assertEquals(java.util.List.of(3, 24, 1), java.util.List.of(ka[ka.length - ROPE - 4], ka[ka.length - ROPE - 3], ka[ka.length - ROPE - 1]),
                "3 ranges of 24 k-blocks, cooperative");
        assertEquals("gemm_splitk_reduce_bf16", rec.last().kernel());
    }

    // ------------------------------------------------------------------ attention on Hopper

    @Test
    void hopperAttentionEncodesHeadMapsAndLaunchesOneCtaPer128Queries() {
        ecar.cuda.TensorMapEncoder encoder = spec -> {
            maps.add(spec);
            return new ecar.cuda.TensorMap(spec, new byte[ecar.cuda.TensorMap.BYTES]);
        };
        // the fused qkv of a 16-head, d 64 self-attention: rows of 3·1024, q at column 0, k at 1024, v at 2048
        int batch = 2, heads = 16, d = 64, l = 256, width = heads * d, ld = 3 * width;
        Fake qkv = bf16((long) batch * l * ld, "qkv");
        Fake k = new Fake(qkv.address() + 2L * width, qkv.bytes() - 2L * width, "k"), v = new Fake(qkv.address() + 4L * width, qkv.bytes() - 4L * width, "v");
        Attention.Problem p = new Attention.Problem(batch, heads, d, l, l, (long) l * ld, (long) l * ld, (long) l * width, ld, ld, width);
        assertTrue(AttentionSm90.takes(p, false) && !AttentionSm90.takes(p, true), "stage masks stay with attention.cu");
        maps.clear();
        AttentionSm90.forward(rec, encoder, 132, p, qkv, k, v, f32((long) batch * l * width, "o"), false);
        var call = rec.calls.get(rec.calls.size() - 1);
        assertEquals("attention_sm90", call.family());
        assertEquals("attention_sm90_d64_f32", call.kernel());
        // persistent: 2 query tiles × 16 heads × 2 samples = 64 items, fewer than the 132 SMs: a CTA each
        assertEquals(new ecar.cuda.LaunchShape(64, 1, 1, 384, 1, 1, 99392), call.shape());
        Object[] args = call.args();
        assertEquals(java.util.List.of(heads, batch, 0), java.util.List.of(args[args.length - 3], args[args.length - 2], args[args.length - 1]),
                "heads, batch and overlap (off unless asked for) close the arguments");
        AttentionSm90.forward(rec, encoder, 132, p, qkv, k, v, f32((long) batch * l * width, "o"), false, true);
        args = rec.last().args();
        assertEquals(1, args[args.length - 1], "overlapped");
        maps.clear();
        AttentionSm90.forward(rec, encoder, 132, p, qkv, k, v, f32((long) batch * l * width, "o"), false);
        assertEquals(new ecar.cuda.LaunchShape(132, 1, 1, 384, 1, 1, 99392), AttentionSm90.shape(Attention.Problem.dense(64, 16, 64, 256, 256), 132),
                "batch 64: 2048 items on one CTA per SM");
        assertEquals(2048, AttentionSm90.shape(Attention.Problem.dense(64, 16, 64, 256, 256), Integer.MAX_VALUE).gridX(), "persistence off");
        if (System.getenv(AttentionSm90.PERSISTENT_ENV) == null) assertEquals(132, AttentionSm90.ctas(132), "persistent by default");
        assertEquals(3, maps.size());
        ecar.cuda.TensorMapSpec mk = maps.get(1);
        assertArrayEquals(new long[]{d, heads, l, batch}, mk.globalDim());
        assertArrayEquals(new long[]{2L * d, 2L * ld, 2L * l * ld}, mk.globalStrides());
        assertArrayEquals(new int[]{64, 1, 128, 1}, mk.boxDim());
        assertEquals(k.address(), mk.globalAddress());
        assertEquals(128 * 128, mk.boxBytes(), "a box is one slab: 128 rows of 128 bytes");
        // a KV cache of 341 tokens holding 100, d 128: the maps stop at lk and the grid follows lq
        Attention.Problem cached = Attention.Problem.cached(1, 8, 128, 130, 100, 341);
        AttentionSm90.forward(rec, encoder, 132, cached, bf16(130L * 1024, "q"), bf16(341L * 1024, "kc"), bf16(341L * 1024, "vc"), bf16(130L * 1024, "o"), true);
        assertEquals("attention_sm90_d128_bf16", rec.calls.get(rec.calls.size() - 1).kernel());
        assertEquals(197696, rec.calls.get(rec.calls.size() - 1).shape().sharedBytes());
        assertArrayEquals(new long[]{128, 8, 100, 1}, maps.get(maps.size() - 1).globalDim());
        // DiT-XL/2's head of 72: the 64-wide slab maps and three 32-byte-swizzled tail maps {16, 1, 128, 1}
        maps.clear();
        Attention.Problem dit = Attention.Problem.dense(2, 16, 72, 256, 256);
        AttentionSm90.forward(rec, encoder, 132, dit, bf16(2L * 256 * 1152, "q"), bf16(2L * 256 * 1152, "k"), bf16(2L * 256 * 1152, "v"),
                f32(2L * 256 * 1152, "o"), false);
        var ditCall = rec.calls.get(rec.calls.size() - 1);
        assertEquals("attention_sm90_d72_f32", ditCall.kernel());
        assertEquals(123968, ditCall.shape().sharedBytes());
        assertEquals(6, maps.size());
        for (int i = 0; i < 6; i++) {
            assertArrayEquals(new long[]{72, 16, 256, 2}, maps.get(i).globalDim());
            assertArrayEquals(i < 3 ? new int[]{64, 1, 128, 1} : new int[]{16, 1, 128, 1}, maps.get(i).boxDim());
            assertEquals(i < 3 ? ecar.cuda.TensorMapSpec.Swizzle.B128 : ecar.cuda.TensorMapSpec.Swizzle.B32, maps.get(i).swizzle());
        }
        // what it does not take
        String msg = message(() -> AttentionSm90.forward(rec, encoder, 132, Attention.Problem.dense(1, 1, 96, 256, 256), bf16(256 * 96, "q"),
                bf16(256 * 96, "k"), bf16(256 * 96, "v"), f32(256 * 96, "o"), false));
        assertTrue(msg.contains("head size 64, 72 or 128"), msg);
        msg = message(() -> AttentionSm90.forward(rec, encoder, 132, Attention.Problem.dense(1, 1, 64, 100, 256), bf16(100 * 64, "q"),
                bf16(256 * 64, "k"), bf16(256 * 64, "v"), f32(100 * 64, "o"), false));
        assertTrue(msg.contains("at least 128 queries"), msg);
        msg = message(() -> AttentionSm90.forward(rec, encoder, 132, p, new Fake(qkv.address() + 2, qkv.bytes(), "q+1"), k, v, f32((long) batch * l * width, "o"), false));
        assertTrue(msg.contains("16-byte aligned"), msg);
    }

    /** Runs the tests above that launch, leaving every launch of every wrapper in {@link #rec}. */
    void launchEverything() {
        gemmPicksTheTileAndGridForTheShape();
        gemmEpiloguesPassTheirOperands();
        wgmmaPathTakesTheModelShapesOnHopper();
        wideTilesTakeTheShapesWithATileForEverySm();
        clustersShareWsTileInHalvesOnAnEvenGrid();
        wgmmaKernelValidatesLikeTheOthers();
        convRequiresChannelsInEights();
        normChecksModulationAndGroups();
        normPrologueTakesFewAlignedRowsOnSkinnyShapesOnly();
        embedAndDiffusionLaunches();
        elementwiseAndEmbeddingLaunches();
        tokenSamplingAndRopeRowsLaunches();
        hopperAttentionEncodesHeadMapsAndLaunchesOneCtaPer128Queries();
        splitKLaunchesTheRangesThenTheReduceWithTheEpilogue();
        ropeEpiloguePassesItsTablesToEveryKernelAndRefusesWhatItCannotDo();
        splitKRangesCarryNoRopeAndTheReduceAppliesIt();
    }

    @Test
    void everyLaunchedKernelIsAnEntryPointOfItsFamily() throws IOException {
        launchEverything();
        for (var c : rec.calls) {
            String src = Files.readString(Path.of("kernels", c.family() + ".cu"));
            Matcher m = ENTRY.matcher(src);
            boolean found = false;
            while (m.find()) {
                String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
                if (name.equals(c.kernel()) || c.kernel().equals(name + "_f32") || c.kernel().equals(name + "_bf16")) found = true;
            }
            assertTrue(found, c.kernel() + " is not an extern \"C\" entry point of kernels/" + c.family() + ".cu");
        }
    }
}
