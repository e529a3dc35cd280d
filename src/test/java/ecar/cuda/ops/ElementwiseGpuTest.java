package ecar.cuda.ops;

import ecar.backend.cpu.CpuBackend;
import ecar.cuda.DeviceBuffer;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static ecar.cuda.ops.GemmGpuTest.data;
import static ecar.cuda.ops.GpuOps.BF16_TOL;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.bf16Round;
import static ecar.cuda.ops.GpuOps.random;

/** kernels/elementwise.cu and embed.cu's embedding lookup against CpuBackend. DiT-XL/2 shapes: 256 tokens of 1152. */
class ElementwiseGpuTest {
    private static final double TOL = 1e-6;
    private final CpuBackend cpu = new CpuBackend();
    private static final int B = 2, L = 256, D = 1152, N = B * L * D;

    @BeforeEach
    void gpu() {
        GpuOps.assume("elementwise");
    }

    @Test
    void addMulSiluGatedResidual() {
        float[] a = random(61, N, 2f), perSample = random(62, B * D, 1f), same = random(63, N, 1f), pos = random(64, L * D, 0.1f);
        FloatTensor ta = FloatTensor.of(a, B, L, D);
        try (GpuOps g = new GpuOps()) {
            ElementwiseKernels ew = new ElementwiseKernels(g.launcher);
            DeviceBuffer da = g.f32(a, "a"), dps = g.f32(perSample, "perSample"), dsame = g.f32(same, "same");
            DeviceBuffer out = g.poisoned(N, Precision.F32, "out");
            ew.add(out, Precision.F32, da, dps, B * L, D, L);
            assertClose("add per sample", data(cpu.add(ta, FloatTensor.of(perSample, B, D))), g.read(out, N, Precision.F32), TOL);
            DeviceBuffer out2 = g.poisoned(N, Precision.F32, "out2");
            ew.add(out2, Precision.F32, da, dsame, B * L, D, 1);
            assertClose("add same shape", data(cpu.add(ta, FloatTensor.of(same, B, L, D))), g.read(out2, N, Precision.F32), TOL);
            DeviceBuffer out3 = g.poisoned(N, Precision.F32, "out3");
            ew.addTiled(out3, Precision.F32, da, g.f32(pos, "pos"), N, (long) L * D);
            assertClose("addTiled", data(cpu.addTiled(ta, FloatTensor.of(pos, L, D))), g.read(out3, N, Precision.F32), TOL);
            float[] mul = data(cpu.mul(ta, FloatTensor.of(same, B, L, D)));
            for (Precision p : Precision.values()) {
                DeviceBuffer o = g.poisoned(N, p, "mul");
                ew.mul(o, p, da, dsame, N);
                assertClose("mul " + p, p == Precision.F32 ? mul : bf16Round(mul), g.read(o, N, p), p == Precision.F32 ? TOL : BF16_TOL);
            }
            float[] silu = data(cpu.silu(ta));
            DeviceBuffer os = g.poisoned(N, Precision.F32, "silu");
            ew.silu(os, Precision.F32, da, N);
            assertClose("silu", silu, g.read(os, N, Precision.F32), 1e-5);
            DeviceBuffer ob = g.poisoned(N, Precision.BF16, "silu bf16");
            ew.silu(ob, Precision.BF16, da, N);
            assertClose("silu bf16", silu, g.read(ob, N, Precision.BF16), BF16_TOL);
            float[] gated = data(cpu.gatedResidual(ta, FloatTensor.of(perSample, B, D), FloatTensor.of(same, B, L, D)));
            ew.gatedResidual(da, da, dps, dsame, B * L, D, L);   // in place
            assertClose("gatedResidual in place", gated, g.read(da, N, Precision.F32), TOL);
        }
    }

    @Test
    void embeddingLookup() {
        int rows = 1001, w = 1152;
        int[] ids = {0, 207, 1000, 360, 207};
        float[] table = bf16Round(random(65, rows * w, 1f));
        float[] expected = data(cpu.embedding(FloatTensor.of(table, rows, w), ids));
        try (GpuOps g = new GpuOps()) {
            EmbedKernels e = new EmbedKernels(g.launcher);
            DeviceBuffer dids = g.scratch(4L * ids.length, "ids");
            dids.upload(ids);
            for (Precision p : Precision.values()) {
                DeviceBuffer out = g.poisoned((long) ids.length * w, Precision.F32, "out");
                e.embedding(out, p == Precision.F32 ? g.f32(table, "table") : g.bf16(table, "table"), p, rows, w, dids, ids);
                assertClose("embedding from " + p, expected, g.read(out, (long) ids.length * w, Precision.F32), 0);
            }
        }
    }
}
