package ecar.cuda.ops;

import ecar.backend.Activation;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.CudaContext;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.TensorMapEncoder;
import ecar.cuda.ops.GemmKernels.Epilogue;
import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import static ecar.cuda.ops.GemmGpuTest.data;
import static ecar.cuda.ops.GpuOps.BF16_TOL;
import static ecar.cuda.ops.GpuOps.F32_TOL;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.bf16Round;
import static ecar.cuda.ops.GpuOps.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kernels/gemm_sm90.cu (TMA + wgmma) on a device of compute capability 9.0 against CpuBackend.linear (with mul and
 * gatedResidual for the fused epilogues): the model and ragged shapes of GemmGpuTest, the GemmBench shapes at batch 64
 * (checked in full against the mma.sync kernel and on sampled rows, the tile edges among them, against the CPU), both
 * outputs, every activation and post step. Outputs are NaN-poisoned, so an element never written fails. Skipped with
 * the reason without such a device.
 */
class GemmSm90GpuTest {
    private final CpuBackend cpu = new CpuBackend();

    @BeforeEach
    void hopper() {
        GpuOps.assume("gemm_sm90");
        var d = CudaContext.get().device();
        Assumptions.assumeTrue(GemmPath.wgmmaRunsOn(d.major(), d.minor()),
                () -> "gemm_sm90 is sm_90a code; this device (" + d.name() + ") has compute capability " + d.computeCapability());
    }

    private static GemmKernels wgmma(GpuOps g) {
        return wgmma(g, g.multiprocessors());
    }

    /** gemm_sm90 on a grid of at most {@code ctas} CTAs (fewer than the SMs: one CTA walks several tiles). */
    private static GemmKernels wgmma(GpuOps g, int ctas) {
        return new GemmKernels(g.launcher, Math.min(ctas, g.multiprocessors()), GemmPath.WGMMA, TensorMapEncoder.DRIVER);
    }

    static Stream<Arguments> shapes() {
        return GemmGpuTest.shapes();
    }

    @ParameterizedTest(name = "{0}: {1}x{2}x{3} {4}")
    @MethodSource("shapes")
    void linearMatchesTheCpu(String name, int m, int n, int k, Activation act) {
        assertLinearMatchesTheCpu(name + " wgmma", m, n, k, act, GemmSm90GpuTest::wgmma);
    }

    /** linearSm90 on these kernels against CpuBackend.linear with a bias and the activation, both output precisions. */
    private void assertLinearMatchesTheCpu(String what, int m, int n, int k, Activation act, java.util.function.Function<GpuOps, GemmKernels> kernels) {
        float[] x = bf16Round(random(21, m * k, 1f)), w = bf16Round(random(22, n * k, (float) (1 / Math.sqrt(k)))), b = random(23, n, 0.5f);
        float[] expected = data(cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n), act));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = kernels.apply(g);
            DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(w, "w"), db = g.f32(b, "bias");
            for (Precision p : Precision.values()) {
                DeviceBuffer y = g.poisoned((long) m * n, p, "y");
                gemm.linearSm90(y, p, dx, dw, m, n, k, Epilogue.of(db, act));
                assertClose(what + " " + p, expected, g.read(y, (long) m * n, p), p == Precision.F32 ? F32_TOL : BF16_TOL);
            }
        }
    }

    /**
     * GemmBench's shapes (model, layer, M, K, N) with the most different K and N: the widest N, the longest K, one row
     * of tiles, a ragged N and a K of one partial k-block (OpsValidationTest checks every GemmBench shape's launch).
     */
    @ParameterizedTest(name = "{0} {1}: {2}x{3}x{4}")
    @CsvSource({"dit-xl-2, fc1, 16384, 1152, 4608", "dit-xl-2, fc2, 16384, 4608, 1152", "dit-xl-2, adaLN, 64, 1152, 6912",
            "ecar-l, ar.fc1, 16384, 1024, 2730", "ecar-l, head.input, 16384, 16, 1024"})
    void benchShapesMatchMmaSyncAndTheCpu(String model, String layer, int m, int k, int n) {
        float[] x = bf16Round(random(31, m * k, 1f)), w = bf16Round(random(32, n * k, (float) (1 / Math.sqrt(k))));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = wgmma(g);
            DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(w, "w");
            DeviceBuffer yw = g.poisoned((long) m * n, Precision.F32, "y wgmma"), ym = g.poisoned((long) m * n, Precision.F32, "y mma.sync");
            gemm.linearSm90(yw, Precision.F32, dx, dw, m, n, k, Epilogue.of(null, Activation.NONE));
            gemm.linear(GemmKernels.Tile.choose(m, n, g.multiprocessors()), ym, Precision.F32, dx, dw, m, n, k, Epilogue.of(null, Activation.NONE));
            float[] got = g.read(yw, (long) m * n, Precision.F32);
            String what = model + " " + layer;
            assertClose(what + " wgmma vs mma.sync", g.read(ym, (long) m * n, Precision.F32), got, F32_TOL);
            // rows at the start, the tile edges, the middle and the end, against the CPU
            TreeSet<Integer> rows = new TreeSet<>();
            for (int r : new int[]{0, 1, 63, 64, 127, 128, 129, m / 2, m - 129, m - 128, m - 2, m - 1}) if (r >= 0 && r < m) rows.add(r);
            float[] xs = new float[rows.size() * k], sub = new float[rows.size() * n];
            int i = 0;
            for (int r : rows) {
                System.arraycopy(x, r * k, xs, i * k, k);
                System.arraycopy(got, r * n, sub, i * n, n);
                i++;
            }
            float[] expected = data(cpu.linear(FloatTensor.of(xs, rows.size(), k), FloatTensor.of(w, n, k), null, Activation.NONE));
            assertClose(what + " wgmma vs CPU on rows " + rows, expected, sub, F32_TOL);
        }
    }

    /** gemm_sm90's row stores give exactly what its pair stores give: {@link GemmGpuTest#assertRowStoresMatchPairStores}. */
    @ParameterizedTest(name = "{0}x{1}x{2}")
    @CsvSource({"1100, 1904, 72", "300, 264, 520", "1100, 1900, 72"})
    void rowStoresMatchPairStores(int m, int n, int k) {
        try (GpuOps g = new GpuOps()) {
            GemmGpuTest.assertRowStoresMatchPairStores(g, "gemm_sm90", m, n, k,
                    (rows, y, out, x, w, e) -> wgmma(g).withRowStores(rows).linearSm90(y, out, x, w, m, n, k, e));
        }
    }

    /**
     * gemm_sm90's other schedules give exactly ping-pong's bits, every epilogue: each output is the same sum of the same
     * k16 products in the same order. {@code coop}: cooperative consumers (both on every tile, a 64-row half each), on
     * grids with one tile a CTA (the case it is for), with several, and with ragged tiles. {@code cluster}: clusters of
     * two CTAs sharing W's tile by multicast (gemm_sm90c, ECAR_GEMM_CLUSTER=on), on DiT-XL/2's qkv at 2048 rows (16 × 27
     * tiles, 66 clusters), on 3 m-tiles (the last pair's second tile all past M), ragged, and with one cluster walking
     * several pairs of tiles.
     */
    @ParameterizedTest(name = "{0}: {1}x{2}x{3} on at most {4} CTAs")
    @CsvSource({"coop, 512, 1024, 1024, 132", "coop, 1100, 1904, 72, 4", "coop, 300, 264, 520, 1",
                "cluster, 2048, 3456, 1152, 132", "cluster, 300, 300, 520, 132", "cluster, 1100, 1904, 72, 2"})
    void schedulesGivePingPongsBits(String schedule, int m, int n, int k, int ctas) {
        try (GpuOps g = new GpuOps()) {
            GemmGpuTest.assertSameBitsBothWays(g, "gemm_sm90", "ping-pong", schedule(schedule), m, n, k,
                    (on, y, out, x, w, e) -> withSchedule(wgmma(g, ctas), schedule, on).linearSm90(y, out, x, w, m, n, k, e));
        }
    }

    /**
     * The same with K split (ECAR_GEMM_SMALL=coop on DiT-XL/2's 36-tile batch-1 fc2, and a ragged shape): the same partial
     * sums (a cluster's two CTAs on the same range) and the same reduce as ping-pong, so the same bits.
     */
    @ParameterizedTest(name = "{0}: {1}x{2}x{3}")
    @CsvSource({"coop, 512, 1152, 4608", "coop, 130, 129, 520", "cluster, 512, 1152, 4608", "cluster, 130, 129, 520"})
    void schedulesSplitKLikePingPong(String schedule, int m, int n, int k) {
        GemmKernels.Sm90.SplitK split = GemmKernels.Sm90.splitK(m, n, k, CudaContext.get().device().multiprocessors());
        Assumptions.assumeTrue(split.splits() > 1, () -> m + "x" + n + "x" + k + " is not split on this device's SM count");
        try (GpuOps g = new GpuOps()) {
            GemmGpuTest.assertSameBitsBothWays(g, "gemm_sm90 " + split, "ping-pong", schedule(schedule), m, n, k,
                    (on, y, out, x, w, e) -> withSchedule(splitting(g), schedule, on).linearSm90(y, out, x, w, m, n, k, e));
        }
    }

    private static String schedule(String name) {
        return name.equals("coop") ? "cooperative consumers" : "clusters of two sharing W";
    }

    private static GemmKernels withSchedule(GemmKernels kernels, String name, boolean on) {
        return name.equals("coop") ? kernels.withCooperative(on) : kernels.withClusters(on);
    }

    /**
     * The wide 128 × 256 tile (gemm_sm90w, ECAR_GEMM_TILE=128x256) against the CPU on every shape of {@link #shapes}, K
     * split where its tiles are few (as linearSm90 runs it with scratch).
     */
    @ParameterizedTest(name = "{0}: {1}x{2}x{3} {4}")
    @MethodSource("shapes")
    void wideTilesMatchTheCpu(String name, int m, int n, int k, Activation act) {
        assertLinearMatchesTheCpu(name + " wide tiles", m, n, k, act, g -> splitting(g).withWideTiles(true));
    }

    /**
     * The wide tile gives the bits of the 128 × 128 tiles, every epilogue: each output is the same sum of the same
     * k16 products in the same order (wgmma's N only says how many columns an instruction computes), and the epilogue is
     * the same code. Shapes: DiT-XL/2's qkv at 2048 rows (16 × 14 wide tiles, 132 CTAs: some take two), ragged (a
     * second tile column 44 of 256 wide), and one CTA walking several tiles. K is not split (the ranges would differ
     * with the tile).
     */
    @ParameterizedTest(name = "{0}x{1}x{2} on at most {3} CTAs")
    @CsvSource({"2048, 3456, 1152, 132", "300, 300, 520, 132", "1100, 1904, 72, 3"})
    void wideTilesGiveThePlainTilesBits(int m, int n, int k, int ctas) {
        try (GpuOps g = new GpuOps()) {
            GemmGpuTest.assertSameBitsBothWays(g, "gemm_sm90", "128 x 128 tiles", "128 x 256 tiles", m, n, k,
                    (wide, y, out, x, w, e) -> wgmma(g, ctas).withWideTiles(wide).linearSm90(y, out, x, w, m, n, k, e));
        }
    }

    /** The measurement-only DISCARD epilogue writes nothing, on gemm_sm90 and on gemm.cu's tiles: a poisoned Y stays NaN. */
    @Test
    void aDiscardEpilogueWritesNothing() {
        int m = 1100, n = 1900, k = 72;
        float[] x = bf16Round(random(71, m * k, 1f)), w = bf16Round(random(72, n * k, 0.1f));
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(w, "w");
            for (Precision p : Precision.values()) {
                DeviceBuffer y = g.poisoned((long) m * n, p, "y");
                wgmma(g).linearSm90(y, p, dx, dw, m, n, k, Epilogue.discard());
                wgmma(g).linear(GemmKernels.Tile.choose(m, n, g.multiprocessors()), y, p, dx, dw, m, n, k, Epilogue.discard());
                float[] got = g.read(y, (long) m * n, p);
                for (int i = 0; i < got.length; i++) assertTrue(Float.isNaN(got[i]), p + ": element " + i + " was written: " + got[i]);
            }
        }
    }

    /** adaLN-Zero in place on the float32 residual stream, and FlowAR's gated GELU with a bf16 output. */
    @Test
    void fusedEpiloguesMatchTheCpu() {
        int m = 512, n = 1152, k = 4608;
        float[] h = bf16Round(random(41, m * k, 1f)), w = bf16Round(random(42, n * k, 0.015f)), b = random(43, n, 0.1f);
        float[] res = random(44, m * n, 2f), gate = random(45, 2 * n, 1f);
        Tensor y = cpu.linear(FloatTensor.of(h, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n));
        float[] expected = data(cpu.gatedResidual(FloatTensor.of(res, m, n), FloatTensor.of(gate, 2, n), y));
        int mg = 341, ng = 2736, kg = 1024;
        float[] xg = bf16Round(random(46, mg * kg, 1f)), wg = bf16Round(random(47, ng * kg, 0.03f)), bg = random(48, ng, 0.1f);
        float[] v = bf16Round(random(49, mg * ng, 1f));
        Tensor act = cpu.linear(FloatTensor.of(xg, mg, kg), FloatTensor.of(wg, ng, kg), FloatTensor.of(bg, ng), Activation.GELU_ERF);
        float[] expectedGated = data(cpu.mul(act, FloatTensor.of(v, mg, ng)));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = wgmma(g);
            DeviceBuffer stream = g.f32(res, "residual");
            gemm.linearSm90(stream, Precision.F32, g.bf16(h, "h"), g.bf16(w, "w"), m, n, k, Epilogue.residual(g.f32(b, "b"), stream, g.f32(gate, "gate"), 256));
            assertClose("wgmma gated residual", expected, g.read(stream, (long) m * n, Precision.F32), F32_TOL);
            DeviceBuffer out = g.poisoned((long) mg * ng, Precision.BF16, "hidden");
            gemm.linearSm90(out, Precision.BF16, g.bf16(xg, "x"), g.bf16(wg, "fc1_g"), mg, ng, kg, Epilogue.gatedGelu(g.f32(bg, "bg"), g.bf16(v, "value")));
            assertClose("wgmma gated GELU", expectedGated, g.read(out, (long) mg * ng, Precision.BF16), BF16_TOL);
        }
    }

    /** gemm_sm90 with K cut into ranges (partial sums in a workspace, then gemm_splitk_reduce with the epilogue). */
    private static GemmKernels splitting(GpuOps g) {
        return new GemmKernels(g.launcher, g.multiprocessors(), GemmPath.WGMMA, TensorMapEncoder.DRIVER, (count, label) -> {
            DeviceBuffer ws = g.scratch(4 * count, label);
            ws.fill32(Float.floatToRawIntBits(Float.NaN), g.stream);   // a range that is never stored shows as NaN
            return new GemmKernels.Scratch.Lease() {
                public ecar.cuda.DeviceAddress address() {
                    return ws;
                }

                public void close() {}
            };
        });
    }

    /**
     * Split K at the batch-1 shapes it is for, ragged ones and every epilogue: adaLN-Zero in place on the residual
     * (the reduce reads and writes Y), FlowAR's gated GELU to bf16, bias with GELU.
     */
    @ParameterizedTest(name = "{0}x{1}x{2}")
    @CsvSource({"128, 1024, 2736", "512, 1024, 1024", "200, 300, 1000", "130, 129, 520"})
    void splitKMatchesTheCpu(int m, int n, int k) {
        GemmKernels.Sm90.SplitK split = GemmKernels.Sm90.splitK(m, n, k, CudaContext.get().device().multiprocessors());
        Assumptions.assumeTrue(split.splits() > 1, () -> m + "x" + n + "x" + k + " is not split on this device's SM count");
        float[] x = bf16Round(random(61, m * k, 1f)), w = bf16Round(random(62, n * k, (float) (1 / Math.sqrt(k)))), b = random(63, n, 0.5f);
        float[] res = random(64, m * n, 2f), gate = random(65, n, 1f), v = bf16Round(random(66, m * n, 1f));
        Tensor lin = cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n));
        float[] residual = data(cpu.gatedResidual(FloatTensor.of(res, m, n), FloatTensor.of(gate, 1, n), lin));
        float[] gelu = data(cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n), Activation.GELU_TANH));
        float[] gated = data(cpu.mul(cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), FloatTensor.of(b, n), Activation.GELU_ERF),
                FloatTensor.of(v, m, n)));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = splitting(g);
            DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(w, "w"), db = g.f32(b, "bias");
            DeviceBuffer stream = g.f32(res, "residual");
            gemm.linearSm90(stream, Precision.F32, dx, dw, m, n, k, Epilogue.residual(db, stream, g.f32(gate, "gate"), m));
            assertClose(split + " residual in place", residual, g.read(stream, (long) m * n, Precision.F32), F32_TOL);
            DeviceBuffer y = g.poisoned((long) m * n, Precision.F32, "y");
            gemm.linearSm90(y, Precision.F32, dx, dw, m, n, k, Epilogue.of(db, Activation.GELU_TANH));
            assertClose(split + " GELU", gelu, g.read(y, (long) m * n, Precision.F32), F32_TOL);
            DeviceBuffer h = g.poisoned((long) m * n, Precision.BF16, "hidden");
            gemm.linearSm90(h, Precision.BF16, dx, dw, m, n, k, Epilogue.gatedGelu(db, g.bf16(v, "value")));
            assertClose(split + " gated GELU", gated, g.read(h, (long) m * n, Precision.BF16), BF16_TOL);
        }
    }

    /** On this device the default path is wgmma, and linear() sends a batch-64 shape to gemm_sm90 and a one-row one to gemm_skinny. */
    @Test
    void theBackendsGemmTakesTheWgmmaKernel() {
        Assumptions.assumeTrue(GemmPath.setting() == null || GemmPath.setting().isBlank() || GemmPath.setting().equals("auto"),
                () -> "the path is forced: " + GemmPath.PROPERTY + "/" + GemmPath.ENV + " = " + GemmPath.setting());
        try (GpuOps g = new GpuOps()) {
            List<String> families = new ArrayList<>();
            Launcher watching = (family, signature, shape, args) -> {
                families.add(family);
                g.launcher.launch(family, signature, shape, args);
            };
            GemmKernels gemm = GemmKernels.forDevice(watching, CudaContext.get().device());
            assertEquals(GemmPath.WGMMA, gemm.path());
            int m = 2048, n = 1152, k = 1152;   // 16 × 9 tiles of 128 × 128: at least one per SM, which wgmmaTakes asks
            float[] x = bf16Round(random(51, m * k, 1f)), w = bf16Round(random(52, n * k, 0.03f));
            DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(w, "w"), y = g.poisoned((long) m * n, Precision.F32, "y");
            gemm.linear(y, Precision.F32, dx, dw, m, n, k, Epilogue.of(null, Activation.NONE));
            gemm.linear(y, Precision.F32, dx, dw, 1, n, k, Epilogue.of(null, Activation.NONE));
            assertEquals(List.of("gemm_sm90", "gemm_skinny"), families);
            float[] expected = data(cpu.linear(FloatTensor.of(x, m, k), FloatTensor.of(w, n, k), null, Activation.NONE));
            float[] got = g.read(y, (long) m * n, Precision.F32);
            assertClose("linear via forDevice (rows 1..)", java.util.Arrays.copyOfRange(expected, n, m * n), java.util.Arrays.copyOfRange(got, n, m * n), F32_TOL);
        }
    }
}
