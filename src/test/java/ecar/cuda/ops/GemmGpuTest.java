package ecar.cuda.ops;

import ecar.backend.Activation;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.ops.GemmKernels.Epilogue;
import ecar.cuda.ops.GemmKernels.Tile;
import ecar.flowar.FlowArConfig;
import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static ecar.cuda.ops.GpuOps.BF16_TOL;
import static ecar.cuda.ops.GpuOps.F32_TOL;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.bf16Round;
import static ecar.cuda.ops.GpuOps.random;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** kernels/gemm.cu against CpuBackend.linear (and mul, gatedResidual) on the models' shapes, both tiles, both outputs. */
class GemmGpuTest {
    private final CpuBackend cpu = new CpuBackend();

    @BeforeEach
    void gpu() {
        GpuOps.assume("gemm");
    }

    /** name, M, N, K, activation: DiT-XL/2 (hidden 1152, MLP 4608, 256 tokens), FlowAR-L (1024 wide), ragged shapes. */
    static Stream<Arguments> shapes() {
        int d = 1152, l = 256;
        List<Arguments> a = new ArrayList<>();
        a.add(Arguments.of("dit qkv b1", l, 3 * d, d, Activation.NONE));
        a.add(Arguments.of("dit fc1 b2", 2 * l, 4 * d, d, Activation.GELU_TANH));
        a.add(Arguments.of("dit fc2 b1", l, d, 4 * d, Activation.NONE));
        a.add(Arguments.of("dit qkv b64", 64 * l, 3 * d, d, Activation.NONE));
        a.add(Arguments.of("dit adaLN b64", 64, 6 * d, d, Activation.NONE));
        a.add(Arguments.of("dit adaLN b1", 1, 6 * d, d, Activation.NONE));
        a.add(Arguments.of("dit t-embed b64", 64, d, 256, Activation.SILU));
        a.add(Arguments.of("dit final b2", 2 * l, 32, d, Activation.NONE));
        a.add(Arguments.of("dit x-embed b4", 4 * l, d, 16, Activation.NONE));
        a.add(Arguments.of("flowar-l qkv 341", 341, 3 * 1024, 1024, Activation.NONE));
        a.add(Arguments.of("flowar-l head in 2x256", 512, 1024, 16, Activation.NONE));
        a.add(Arguments.of("flowar-l head out", 512, 16, 1024, Activation.NONE));
        a.add(Arguments.of("ragged 85x1000", 85, 1000, 1152, Activation.GELU_ERF));
        a.add(Arguments.of("ragged odd N", 130, 129, 72, Activation.SILU));
        a.add(Arguments.of("tiny", 1, 1, 8, Activation.NONE));
        return a.stream();
    }

    /** One GEMM of {@link #assertRowStoresMatchPairStores}, with row stores on or off. */
    interface StoresCall {
        void run(boolean rows, DeviceBuffer y, Precision out, DeviceBuffer x, DeviceBuffer w, Epilogue e);
    }

    /**
     * A kernel's row stores (epi 1: eight outputs a lane, 16-byte accesses; an activation applied in place first;
     * GATE_PAIRS as words of two hidden units) give exactly what its pair stores give, for every epilogue, both output
     * precisions and ragged tiles. With N % 8 == 4 (1100 × 1900), GATE_PAIRS' last group of a row holds two units and
     * the other epilogues store pairs, as they do with a bias that is not 16-byte aligned: the same results again.
     */
    static void assertRowStoresMatchPairStores(GpuOps g, String kernel, int m, int n, int k, StoresCall call) {
        assertSameBitsBothWays(g, kernel, "pairs", "row stores", m, n, k, call);
    }

    /**
     * A gate ratio for M rows (the residual epilogue's rows of Y per gate row, which must divide M): the largest divisor of
     * M that is at most M / 4, so that several gate rows are read (M / 4 itself when it divides, as for 300, 512, 1100).
     */
    static int gateRatio(int m) {
        for (int r = Math.max(1, m / 4); r > 1; r--) if (m % r == 0) return r;
        return 1;
    }

    /** The same comparison for any switch of a kernel that must not change a bit: call(false) is {@code off}, call(true) {@code on}. */
    static void assertSameBitsBothWays(GpuOps g, String kernel, String off, String on, int m, int n, int k, StoresCall call) {
        int ld = n + 8, ratio = gateRatio(m);
        float[] x = bf16Round(random(81, m * k, 1f)), w = bf16Round(random(82, n * k, (float) (1 / Math.sqrt(k)))), b = random(83, n + 1, 0.5f);
        float[] res = random(84, m * n, 2f), gate = random(85, (m / ratio + 1) * ld, 1f), v = bf16Round(random(86, m * n, 1f));
        DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(w, "w"), bias = g.f32(b, "bias"), dgate = g.f32(gate, "gate"), dv = g.bf16(v, "mul");
        DeviceBuffer shifted = bias.slice(4, 4L * n, "bias + 4 bytes");   // 4-byte aligned only: pairs
        List<String> names = List.of("plain", "bias + GELU tanh", "bias + 4 bytes + SiLU", "gated GELU", "residual, gate rows " + ld + " apart",
                "gate pairs, bias + SiLU");
        for (int e = 0; e < names.size(); e++) {
            for (Precision p : Precision.values()) {
                float[][] out = new float[2][];
                int width = e == 5 ? n / 2 : n;
                for (int rows = 0; rows < 2; rows++) {
                    DeviceBuffer y = e == 4 ? g.f32(res, "residual") : g.poisoned((long) m * n, p, "y");
                    Epilogue epi = switch (e) {
                        case 0 -> Epilogue.of(null, Activation.NONE);
                        case 1 -> Epilogue.of(bias, Activation.GELU_TANH);
                        case 2 -> Epilogue.of(shifted, Activation.SILU);
                        case 3 -> Epilogue.gatedGelu(bias, dv);
                        case 4 -> Epilogue.residual(bias, y, dgate, ratio, ld);
                        default -> Epilogue.gatePairs(bias, Activation.SILU);
                    };
                    Precision outP = e == 4 ? Precision.F32 : p;
                    call.run(rows == 1, y, outP, dx, dw, epi);
                    out[rows] = g.read(y, (long) m * width, outP);
                }
                for (int i = 0; i < out[0].length; i++) {
                    assertFalse(Float.isNaN(out[0][i]), kernel + " " + names.get(e) + " " + p + ": element " + i + " not written");
                    if (Float.floatToRawIntBits(out[0][i]) != Float.floatToRawIntBits(out[1][i])) {
                        throw new AssertionError(kernel + " " + names.get(e) + " " + p + ", " + m + "x" + n + "x" + k + ": element " + i + " (row " + i / width
                                + ", column " + i % width + ") is " + out[1][i] + " with " + on + ", " + out[0][i] + " with " + off);
                    }
                }
                if (e == 4) break;   // the residual stream is float32
            }
        }
    }

    /** gemm.cu's row stores (staged in the pipeline's shared memory) give exactly what its pair stores give, both tiles. */
    @ParameterizedTest(name = "{0} {1}x{2}x{3}")
    @CsvSource({"T128, 300, 264, 520", "T128, 1100, 1900, 72", "T64, 130, 1904, 72", "T64, 200, 1900, 1000"})
    void tileRowStoresMatchPairStores(Tile tile, int m, int n, int k) {
        try (GpuOps g = new GpuOps()) {
            assertRowStoresMatchPairStores(g, "gemm.cu " + tile, m, n, k,
                    (rows, y, out, x, w, e) -> new GemmKernels(g.launcher, g.multiprocessors()).withRowStores(rows).linear(tile, y, out, x, w, m, n, k, e));
        }
    }

    /**
     * gemm_skinny (the CUDA cores, a block row per 16 rows, K split where the columns are few) against the CPU at
     * batch-1 shapes and ragged ones (odd N, K of one 16-byte chunk, K not a multiple of the warp's 256-element stride,
     * 17 to 47 rows: two and three block rows), every epilogue: bias + activation, adaLN-Zero in place on the
     * residual, the gated GELU to bf16.
     */
    @ParameterizedTest(name = "{0}x{1}x{2}")
    @CsvSource({"1, 6912, 1152", "2, 3072, 1024", "2, 1024, 2736", "8, 3072, 1024", "16, 1024, 1024", "7, 33, 8", "3, 129, 264", "16, 1, 4608",
            "32, 1024, 2736", "47, 129, 264", "17, 6912, 1152"})
    void skinnyMatchesTheCpu(int m, int n, int k) {
        float[] x = bf16Round(random(71, m * k, 1f)), w = bf16Round(random(72, n * k, (float) (1 / Math.sqrt(k)))), b = random(73, n, 0.5f);
        float[] res = random(74, m * n, 2f), gate = random(75, n, 1f), v = bf16Round(random(76, m * n, 1f));
        float[] gelu = data(cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n), Activation.GELU_TANH));
        float[] residual = data(cpu.gatedResidual(FloatTensor.of(res, m, n), FloatTensor.of(gate, 1, n),
                cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n))));
        float[] gated = data(cpu.mul(cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n), Activation.GELU_ERF),
                FloatTensor.of(v, m, n)));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = new GemmKernels(g.launcher, g.multiprocessors());
            DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(w, "w"), db = g.f32(b, "bias");
            for (Precision p : Precision.values()) {
                DeviceBuffer y = g.poisoned((long) m * n, p, "y");
                gemm.linearSkinny(y, p, dx, dw, m, n, k, Epilogue.of(db, Activation.GELU_TANH));
                assertClose("skinny GELU " + p, gelu, g.read(y, (long) m * n, p), p == Precision.F32 ? F32_TOL : BF16_TOL);
            }
            DeviceBuffer stream = g.f32(res, "residual");
            gemm.linearSkinny(stream, Precision.F32, dx, dw, m, n, k, Epilogue.residual(db, stream, g.f32(gate, "gate"), m));
            assertClose("skinny residual in place", residual, g.read(stream, (long) m * n, Precision.F32), F32_TOL);
            DeviceBuffer h = g.poisoned((long) m * n, Precision.BF16, "hidden");
            gemm.linearSkinny(h, Precision.BF16, dx, dw, m, n, k, Epilogue.gatedGelu(db, g.bf16(v, "value")));
            assertClose("skinny gated GELU", gated, g.read(h, (long) m * n, Precision.BF16), BF16_TOL);
        }
    }

    @ParameterizedTest(name = "{0}: {1}x{2}x{3} {4}")
    @MethodSource("shapes")
    void linearMatchesTheCpu(String name, int m, int n, int k, Activation act) {
        float[] x = bf16Round(random(1, m * k, 1f)), w = bf16Round(random(2, n * k, (float) (1 / Math.sqrt(k)))), b = random(3, n, 0.5f);
        float[] expected = data(cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n), act));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = new GemmKernels(g.launcher, g.multiprocessors());
            DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(w, "w"), db = g.f32(b, "bias");
            for (Tile tile : Tile.values()) {
                for (Precision p : Precision.values()) {
                    DeviceBuffer y = g.poisoned((long) m * n, p, "y");
                    gemm.linear(tile, y, p, dx, dw, m, n, k, Epilogue.of(db, act));
                    assertClose(name + " " + tile + " " + p, expected, g.read(y, (long) m * n, p), p == Precision.F32 ? F32_TOL : BF16_TOL);
                }
            }
        }
    }

    /** adaLN-Zero: x += gate[row / ratio] ⊙ (h·Wᵀ + b) in place on the float32 residual stream. */
    @ParameterizedTest(name = "ratio {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {256, 1, 0})
    void gatedResidualInPlace(int ratio) {
        int m = 512, n = 1152, k = 4608;
        float[] h = bf16Round(random(4, m * k, 1f)), w = bf16Round(random(5, n * k, 0.015f)), b = random(6, n, 0.1f);
        float[] res = random(7, m * n, 2f);
        int gateRows = ratio == 0 ? 0 : m / ratio;
        float[] gate = ratio == 0 ? null : random(8, gateRows * n, 1f);
        Tensor y = cpu.linear(FloatTensor.of(h, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n));
        Tensor gt = ratio == 0 ? FloatTensor.of(filled(n, 1f), 1, n) : FloatTensor.of(gate, gateRows, n);
        float[] expected = data(cpu.gatedResidual(FloatTensor.of(res, m, n), gt, y));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = new GemmKernels(g.launcher, g.multiprocessors());
            DeviceBuffer stream = g.f32(res, "residual");
            DeviceBuffer dg = gate == null ? null : g.f32(gate, "gate");
            gemm.linear(stream, Precision.F32, g.bf16(h, "h"), g.bf16(w, "w"), m, n, k,
                    Epilogue.residual(g.f32(b, "b"), stream, dg, ratio == 0 ? 1 : ratio));
            assertClose("gated residual ratio " + ratio, expected, g.read(stream, (long) m * n, Precision.F32), F32_TOL);
        }
    }

    /**
     * FlowAR-L's gated MLP fc2(GELU(fc1_g x) ⊙ fc1_x x) with hidden 2730, which is not a multiple of 8: the GPU runs it
     * padded to 2736 with zero weight rows/columns (exact), the CPU unpadded, as GatedMlp does.
     */
    @ParameterizedTest(name = "tokens {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {256, 85})
    void flowArGatedMlpPaddedHidden(int m) {
        int d = 1024, hid = FlowArConfig.mlpHidden(d), hp = (hid + 7) / 8 * 8;
        float[] x = bf16Round(random(9, m * d, 1f));
        float[] wg = bf16Round(random(10, hid * d, 0.03f)), wx = bf16Round(random(11, hid * d, 0.03f)), w2 = bf16Round(random(12, d * hid, 0.02f));
        float[] bg = random(13, hid, 0.1f), bx = random(14, hid, 0.1f), b2 = random(15, d, 0.1f);
        Tensor xt = FloatTensor.of(x, m, d);
        Tensor gateAct = cpu.linear(xt, FloatTensor.of(wg, hid, d), FloatTensor.of(bg, hid), Activation.GELU_ERF);
        Tensor value = cpu.linear(xt, FloatTensor.of(wx, hid, d), FloatTensor.of(bx, hid));
        float[] expected = data(cpu.linear(cpu.mul(gateAct, value), FloatTensor.of(w2, d, hid), FloatTensor.of(b2, d)));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = new GemmKernels(g.launcher, g.multiprocessors());
            DeviceBuffer dx = g.bf16(x, "x");
            DeviceBuffer v = g.poisoned((long) m * hp, Precision.BF16, "value"), hdn = g.poisoned((long) m * hp, Precision.BF16, "hidden");
            gemm.linear(v, Precision.BF16, dx, g.bf16(padRows(wx, hid, d, hp), "fc1_x"), m, hp, d, Epilogue.of(g.f32(pad(bx, hp), "bx"), Activation.NONE));
            gemm.linear(hdn, Precision.BF16, dx, g.bf16(padRows(wg, hid, d, hp), "fc1_g"), m, hp, d, Epilogue.gatedGelu(g.f32(pad(bg, hp), "bg"), v));
            DeviceBuffer y = g.poisoned((long) m * d, Precision.F32, "y");
            gemm.linear(y, Precision.F32, hdn, g.bf16(padCols(w2, d, hid, hp), "fc2"), m, d, hp, Epilogue.of(g.f32(b2, "b2"), Activation.NONE));
            assertClose("flowar-l gated MLP, " + m + " tokens", expected, g.read(y, (long) m * d, Precision.F32), BF16_TOL);
        }
    }

    static float[] data(Tensor t) {
        return ((FloatTensor) t).data();
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static float[] pad(float[] a, int n) {
        return java.util.Arrays.copyOf(a, n);
    }

    /** [rows, cols] → [rowsPadded, cols] with zero rows. */
    private static float[] padRows(float[] a, int rows, int cols, int rowsPadded) {
        return java.util.Arrays.copyOf(a, rowsPadded * cols);
    }

    /** [rows, cols] → [rows, colsPadded] with zero columns. */
    private static float[] padCols(float[] a, int rows, int cols, int colsPadded) {
        float[] o = new float[rows * colsPadded];
        for (int r = 0; r < rows; r++) System.arraycopy(a, r * cols, o, r * colsPadded, cols);
        return o;
    }
}
