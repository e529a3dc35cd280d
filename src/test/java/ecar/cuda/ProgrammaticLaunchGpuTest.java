package ecar.cuda;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.backend.Norm;
import ecar.cuda.backend.CudaBackend;
import ecar.model.Progress;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.sample.Presets;
import ecar.selfcheck.GpuSelfCheck;
import ecar.selfcheck.Verdict;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Clock;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Programmatic dependent launch (ECAR_PDL=on, {@link LaunchDriver}): every kernel may start before the one it follows
 * has ended and waits for it in pdl_enter. The arithmetic is the same kernels' on the same data, so the results must
 * equal those of ordinary launches to the bit: eagerly, in captured graphs (programmatic edges) and in their replays,
 * for the tiny pipelines and for a chain of ops on shapes that take the Hopper kernels (gemm_sm90, attention_sm90),
 * gemm_skinny and norm_rows. The self-check must pass with it. Skipped without a GPU, or below compute capability 9.0.
 */
class ProgrammaticLaunchGpuTest {

    private static void assumeHopper() {
        Gpu.assume();
        Assumptions.assumeTrue(CudaContext.get().device().major() >= 9,
                () -> "programmatic dependent launch needs compute capability 9.0; this is " + CudaContext.get().device().major() + "." + CudaContext.get().device().minor());
    }

    /** {@code run} on a fresh backend, with ECAR_PDL as given (the property, restored after). */
    private static <T> T withPdl(boolean on, Function<CudaBackend, T> run) {
        String before = System.getProperty("ecar.pdl");
        System.setProperty("ecar.pdl", on ? "on" : "off");
        try (CudaBackend gpu = new CudaBackend(512L << 20)) {
            return run.apply(gpu);
        } finally {
            if (before == null) System.clearProperty("ecar.pdl");
            else System.setProperty("ecar.pdl", before);
        }
    }

    @Test
    void theSelfCheckPassesWithProgrammaticLaunches() {
        assumeHopper();
        String before = System.getProperty("ecar.pdl");
        System.setProperty("ecar.pdl", "on");
        try {
            Verdict v = new GpuSelfCheck(() -> new CudaBackend(512L << 20), Clock.systemDefaultZone()).run();
            assertTrue(v.passed(), () -> "the GPU self-check failed with ECAR_PDL=on: " + v.reason());
        } finally {
            if (before == null) System.clearProperty("ecar.pdl");
            else System.setProperty("ecar.pdl", before);
        }
    }

    /** Eager, then the loops' eager run, capture and two replays: each equal to the same run launched ordinarily. */
    @ParameterizedTest
    @ValueSource(strings = {"dit-tiny", "ecar-tiny", "arpg-tiny"})
    void pipelinesEqualOrdinaryLaunchesToTheBit(String preset) {
        assumeHopper();
        GenerateRequest r = preset.startsWith("dit") ? GenerateRequest.of(1, 3).seed(5).steps(6).cfg(4f)
                : preset.startsWith("ecar") ? GenerateRequest.of(1, 3).seed(5).stageSteps(1, 3, 4) : GenerateRequest.of(1, 3).seed(5);
        Function<CudaBackend, float[][]> runs = gpu -> {
            Pipeline p = Pipeline.random(Presets.get(preset), 3, gpu);
            float[][] out = new float[5][];
            gpu.useGraphs(false);
            out[0] = p.sampleLatents(r, Progress.NONE).data();
            gpu.useGraphs(true);
            for (int i = 1; i < out.length; i++) out[i] = p.sampleLatents(r, Progress.NONE).data();
            return out;
        };
        float[][] ordinary = withPdl(false, runs), programmatic = withPdl(true, runs);
        String[] what = {"eager", "graphs: eager run", "graphs: capture", "graphs: replay", "graphs: second replay"};
        for (int i = 0; i < what.length; i++) assertArrayEquals(ordinary[i], programmatic[i], preset + ", " + what[i] + ": ECAR_PDL=on differs");
    }

    @Test
    void hopperKernelsEqualOrdinaryLaunchesToTheBit() {
        assumeHopper();
        assertArrayEquals(withPdl(false, ProgrammaticLaunchGpuTest::chain), withPdl(true, ProgrammaticLaunchGpuTest::chain),
                "the op chain (norm_rows, gemm_sm90, attention_sm90, gemm_skinny) with ECAR_PDL=on differs");
    }

    /** RMSNorm → qkv (512 rows: gemm_sm90) → self-attention (L 256: attention_sm90) → GELU linear → 8 rows (gemm_skinny). */
    private static float[] chain(Backend b) {
        try (Backend.Scope scope = b.scope()) {
            Tensor x = b.upload(Compare.random(1, 1f, 2, 256, 1024));
            Tensor norm = b.upload(Compare.random(2, 1f, 1024));
            Tensor wQkv = b.weight(Compare.random(3, 0.03f, 3072, 1024)), wOut = b.weight(Compare.random(4, 0.03f, 1024, 1024));
            Tensor bias = b.upload(Compare.random(5, 0.1f, 1024));
            Tensor qkv = b.linear(b.normForMatmul(x, Norm.RMS, norm, 1e-6f), wQkv, null, Activation.NONE);
            Tensor a = b.selfAttention(qkv, 16, 0, 0, false);
            Tensor y = b.linear(a, wOut, bias, Activation.GELU_TANH);
            Tensor few = b.linear(b.sliceBatch(b.reshape(y, ecar.tensor.Shape.of(512, 1024)), 0, 8), wOut, bias, Activation.NONE);
            float[] ys = b.download(y).data(), fs = b.download(few).data();
            float[] all = java.util.Arrays.copyOf(ys, ys.length + fs.length);
            System.arraycopy(fs, 0, all, ys.length, fs.length);
            return all;
        }
    }
}
