package ecar.cuda;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.backend.Norm;
import ecar.cuda.backend.CudaBackend;
import ecar.cuda.ops.GemmKernels;
import ecar.model.Progress;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.sample.Presets;
import ecar.selfcheck.GpuSelfCheck;
import ecar.selfcheck.Verdict;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Norms in the prologue of the skinny GEMM that reads them (ECAR_NORM_PROLOGUE=on: gemm_skinny_norm, DeferredNorm).
 * The prologue runs norm_row.cuh's code, the code norm_rows runs, and the GEMM's loop is gemm_skinny's, so every result
 * must equal that of norm_rows followed by gemm_skinny to the bit: for each linear op that can take a norm, for the
 * tiny pipelines at batch 1 (eager, and in graphs through capture and replays), and the self-check must pass. Each
 * comparison also checks that prologues ran at all. Skipped without a GPU.
 */
class NormPrologueGpuTest {

    /** {@code run} on a fresh backend, with the norm prologue on or off (the property, restored after). */
    private static <T> T withPrologue(boolean on, Function<CudaBackend, T> run) {
        String before = System.getProperty(GemmKernels.NORM_PROLOGUE_PROPERTY);
        System.setProperty(GemmKernels.NORM_PROLOGUE_PROPERTY, on ? "on" : "off");
        try (CudaBackend gpu = new CudaBackend(512L << 20)) {
            return run.apply(gpu);
        } finally {
            if (before == null) System.clearProperty(GemmKernels.NORM_PROLOGUE_PROPERTY);
            else System.setProperty(GemmKernels.NORM_PROLOGUE_PROPERTY, before);
        }
    }

    /** The results of {@code ops}, then how many norms went into GEMM prologues. */
    private record Run(float[] values, long prologues) {}

    private static Function<CudaBackend, Run> counting(Function<Backend, float[]> ops) {
        return gpu -> {
            long before = gpu.normPrologues();
            float[] v = ops.apply(gpu);
            return new Run(v, gpu.normPrologues() - before);
        };
    }

    /**
     * Every linear that can take a norm, on B samples of L tokens of width d: the adaLN chunks read in place (one
     * modulation row per sample, so ratio L), a weight, RMSNorm and LayerNorm, f32 and bf16 outputs, RoPE, GATE_PAIRS
     * and a gated residual; and x += linear(norm(x)), which must stay unfused (its rows change under the prologue).
     */
    @ParameterizedTest(name = "B {0}, L {1} (side {2}), d {3}")
    @CsvSource({"2, 1, 1, 64", "2, 4, 2, 1024", "1, 1, 1, 2048", "2, 4, 2, 64", "6, 1, 1, 1024", "3, 1, 1, 1152"})
    void everyLinearTakingANormEqualsNormRowsThenTheGemm(int batch, int tokens, int side, int d) {
        Gpu.assume();
        Function<Backend, float[]> ops = b -> linearsOfNorms(b, batch, tokens, side, d);
        Run plain = withPrologue(false, counting(ops)), fused = withPrologue(true, counting(ops));
        assertEquals(0, plain.prologues());
        assertEquals(5, fused.prologues(), "five of the six linears take their norm (the sixth writes the norm's own x)");
        assertArrayEquals(plain.values(), fused.values(), "ECAR_NORM_PROLOGUE=on differs from norm_rows then gemm_skinny");
    }

    private static float[] linearsOfNorms(Backend b, int batch, int tokens, int side, int d) {
        List<float[]> outs = new ArrayList<>();
        try (Backend.Scope scope = b.scope()) {
            Tensor x = b.upload(Compare.random(1, 1.5f, batch, tokens, d));
            Tensor mod = b.upload(Compare.random(2, 0.5f, batch, 6 * d));
            Tensor g = b.upload(Compare.random(3, 1f, d)), bias = b.upload(Compare.random(4, 0.1f, 3 * d));
            Tensor wQkv = b.weight(Compare.random(5, 0.03f, 3 * d, d)), wPairs = b.weight(Compare.random(6, 0.03f, 2 * 96, d));
            Tensor wOut = b.weight(Compare.random(7, 0.03f, d, d)), biasOut = b.upload(Compare.random(8, 0.1f, d));
            int heads = d / 64 > 0 && d % 64 == 0 ? d / 64 : 1;
            outs.add(b.download(b.linearRope(b.normModulate(x, Norm.RMS, 1e-6f, mod, 6, 4, 2), wQkv, bias, heads, side, 16)).data());
            outs.add(b.download(b.gatedLinear(b.normModulate(x, Norm.RMS, 1e-6f, mod, 6, 5, 3), wPairs, null, Activation.GELU_ERF)).data());
            outs.add(b.download(b.linear(b.normForMatmul(x, Norm.RMS, g, 1e-5f), wOut, biasOut, Activation.NONE)).data());
            outs.add(b.download(b.linearOperand(b.normForMatmul(x, Norm.LAYER, g, 1e-5f), wOut, null)).data());
            Tensor r = b.upload(Compare.random(9, 1f, batch, tokens, d));
            b.linearIntoResidual(r, b.normModulate(x, Norm.RMS, 1e-6f, mod, 6, 4, 2), wOut, biasOut, mod, 6, 0);
            outs.add(b.download(r).data());
            b.linearIntoResidual(x, b.normForMatmul(x, Norm.RMS, g, 1e-5f), wOut, biasOut, null);
            outs.add(b.download(x).data());
        }
        int n = outs.stream().mapToInt(a -> a.length).sum(), at = 0;
        float[] all = new float[n];
        for (float[] a : outs) {
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        return all;
    }

    @Test
    void aNormTakenByAGemmCannotBeReadAgain() {
        Gpu.assume();
        withPrologue(true, gpu -> {
            Tensor x = gpu.upload(Compare.random(1, 1f, 2, 1, 64)), g = gpu.upload(Compare.random(2, 1f, 64));
            Tensor h = gpu.normForMatmul(x, Norm.RMS, g, 1e-5f);
            gpu.linear(h, gpu.weight(Compare.random(3, 0.1f, 64, 64)), null, Activation.NONE);
            assertEquals(1, gpu.normPrologues());
            String msg = assertThrows(IllegalStateException.class, () -> gpu.download(h)).getMessage();
            assertTrue(msg.contains("never written") && msg.contains("linear") && msg.contains("ECAR_NORM_PROLOGUE=off"), msg);
            // read by something else first, it is written, and any number of reads work
            Tensor h2 = gpu.normForMatmul(x, Norm.RMS, g, 1e-5f);
            gpu.download(h2);
            gpu.linear(h2, gpu.weight(Compare.random(3, 0.1f, 64, 64)), null, Activation.NONE);
            gpu.download(h2);
            assertEquals(1, gpu.normPrologues());
            return null;
        });
    }

    /** Eager, then the loops' eager run, capture and two replays: each equal to the same run with norm_rows. */
    @ParameterizedTest
    @ValueSource(strings = {"ecar-tiny", "ecar-tiny-v2", "arpg-tiny"})
    void pipelinesEqualNormRowsToTheBit(String preset) {
        Gpu.assume();
        GenerateRequest r = preset.startsWith("ecar") ? GenerateRequest.of(1, 3).seed(5).stageSteps(1, 3, 4) : GenerateRequest.of(1, 3).seed(5);
        Function<CudaBackend, Run> runs = counting(b -> {
            CudaBackend gpu = (CudaBackend) b;
            Pipeline p = Pipeline.random(Presets.get(preset), 3, gpu);
            List<float[]> out = new ArrayList<>();
            gpu.useGraphs(false);
            out.add(p.sampleLatents(r, Progress.NONE).data());
            gpu.useGraphs(true);
            for (int i = 0; i < 4; i++) out.add(p.sampleLatents(r, Progress.NONE).data());
            float[] all = new float[out.stream().mapToInt(a -> a.length).sum()];
            int at = 0;
            for (float[] a : out) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            return all;
        });
        Run plain = withPrologue(false, runs), fused = withPrologue(true, runs);
        assertTrue(fused.prologues() > 0, preset + ": no norm went into a GEMM prologue");
        assertArrayEquals(plain.values(), fused.values(), preset + " (eager, graphs' eager run, capture, two replays): ECAR_NORM_PROLOGUE=on differs");
    }

    @Test
    void theSelfCheckPassesWithNormPrologues() {
        Gpu.assume();
        String before = System.getProperty(GemmKernels.NORM_PROLOGUE_PROPERTY);
        System.setProperty(GemmKernels.NORM_PROLOGUE_PROPERTY, "on");
        try {
            Verdict v = new GpuSelfCheck(() -> new CudaBackend(512L << 20), Clock.systemDefaultZone()).run();
            assertTrue(v.passed(), () -> "the GPU self-check failed with ECAR_NORM_PROLOGUE=on: " + v.reason());
        } finally {
            if (before == null) System.clearProperty(GemmKernels.NORM_PROLOGUE_PROPERTY);
            else System.setProperty(GemmKernels.NORM_PROLOGUE_PROPERTY, before);
        }
    }
}
