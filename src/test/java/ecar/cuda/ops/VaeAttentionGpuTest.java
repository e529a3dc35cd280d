package ecar.cuda.ops;

import ecar.backend.Activation;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.ops.GemmKernels.Epilogue;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static ecar.cuda.ops.GemmGpuTest.data;
import static ecar.cuda.ops.GpuOps.BF16_TOL;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.bf16Round;
import static ecar.cuda.ops.GpuOps.random;

/**
 * The VAE's mid AttnBlock (one head of 512 channels over the H·W tokens) as GEMMs and a row softmax:
 * S = Q·Kᵀ (gemm, f32), P = softmax(S/√512) (norm.cu, bf16), Vᵀ (embed.cu's transpose, bf16), O = P·(Vᵀ)ᵀ (gemm),
 * against CpuBackend.attention with one head.
 */
class VaeAttentionGpuTest {
    private final CpuBackend cpu = new CpuBackend();

    @BeforeEach
    void gpu() {
        GpuOps.assume("norm");
    }

    @ParameterizedTest(name = "{0} tokens × {1} channels")
    @CsvSource({"256, 512", "1024, 512", "85, 64"})
    void singleHeadAttentionFromGemmsAndSoftmax(int l, int c) {
        float[] q = bf16Round(random(71, l * c, 1f)), k = bf16Round(random(72, l * c, 1f)), v = bf16Round(random(73, l * c, 1f));
        float[] expected = data(cpu.attention(FloatTensor.of(q, 1, l, c), FloatTensor.of(k, 1, l, c), FloatTensor.of(v, 1, l, c), 1));
        try (GpuOps g = new GpuOps()) {
            GemmKernels gemm = new GemmKernels(g.launcher, g.multiprocessors());
            NormKernels norm = new NormKernels(g.launcher);
            EmbedKernels embed = new EmbedKernels(g.launcher);
            int lp = (l + 7) / 8 * 8;   // the P·V GEMM's K is the token count: padded to a multiple of 8 with zero columns
            DeviceBuffer s = g.poisoned((long) l * l, Precision.F32, "scores");
            gemm.linear(s, Precision.F32, g.bf16(q, "q"), g.bf16(k, "k"), l, l, c, Epilogue.of(null, Activation.NONE));
            DeviceBuffer p = g.scratch(2L * l * lp, "probs");
            p.fill32(0, g.stream);
            if (lp == l) {
                norm.softmaxRows(p, Precision.BF16, s, l, l, (float) (1 / Math.sqrt(c)));
            } else {
                for (int r = 0; r < l; r++) {   // ragged token counts only in this test: rows written into the padded layout
                    norm.softmaxRows(p.slice(2L * r * lp, 2L * l, "p row"), Precision.BF16, s.slice(4L * r * l, 4L * l, "s row"), 1, l,
                            (float) (1 / Math.sqrt(c)));
                }
            }
            DeviceBuffer vt = g.scratch(2L * c * lp, "vT");
            vt.fill32(0, g.stream);
            DeviceBuffer vf = g.f32(v, "v");
            if (lp == l) {
                embed.transpose(vt, Precision.BF16, vf, 1, l, c);
            } else {
                DeviceBuffer vpad = g.scratch(4L * lp * c, "v padded");
                vpad.fill32(0, g.stream);
                vpad.slice(0, 4L * l * c, "v rows").copyFrom(vf, 4L * l * c, g.stream);
                embed.transpose(vt, Precision.BF16, vpad, 1, lp, c);
            }
            DeviceBuffer o = g.poisoned((long) l * c, Precision.F32, "out");
            gemm.linear(o, Precision.F32, p, vt, l, c, lp, Epilogue.of(null, Activation.NONE));
            assertClose("attention " + l + "×" + c, expected, g.read(o, (long) l * c, Precision.F32), BF16_TOL);
        }
    }
}
