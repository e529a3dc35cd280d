package ecar.cuda.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs tools/emulate_gemm_skinny.py, the numpy replay of kernels/gemm_skinny.cu's work split (the K ranges of the
 * warps that share a pair of columns, the in-order sum of the ranges, the block rows of 16 rows, the guarded stores),
 * and the norm entries' prologue (the block's rows of norm_rows' output in shared memory), with mutants that must fail. It reads the kernel's constants from the source; its copy of GemmKernels.skinnySplit must be the launcher's.
 * Needs python3 with numpy (skipped with the reason otherwise); no GPU.
 */
class GemmSkinnyEmulationTest {
    private static final Path SCRIPT = Path.of("tools", "emulate_gemm_skinny.py");

    @Test
    void theReplaysSplitIsTheLaunchers() throws IOException {
        String py = Files.readString(SCRIPT);
        assertEquals(GemmKernels.SKINNY_WARPS_PER_SM, GemmSm90SassTest.constant(py, "WARPS_PER_SM"), "WARPS_PER_SM");
        for (int[] nk : new int[][]{{1024, 2816}, {3072, 1024}, {5460, 1024}}) {
            int ksplit = GemmKernels.skinnySplit(nk[0], nk[1], 132, 1);
            assertTrue(py.contains("skinny_split(" + nk[0] + ", " + nk[1] + ", 132) == " + ksplit),
                    "the replay's split for N " + nk[0] + ", K " + nk[1] + " must be the launcher's, " + ksplit);
        }
    }

    @Test
    void replayMatchesAPlainMatmulAndCatchesItsMutants() throws Exception {
        String out = NumpyReplay.run("emulate_gemm_skinny.py");
        assertEquals(8, NumpyReplay.count(out, "mutant caught"), "every mutant must be caught:\n" + out);
        assertTrue(out.contains("ksplit 4 ("), "K split four ways is replayed:\n" + out);
        assertTrue(out.contains(" x 3 blocks of "), "several block rows of 16 rows are replayed:\n" + out);
        assertEquals(5, NumpyReplay.count(out, "skinny norm "), "the norm entries' prologue is replayed on five shapes:\n" + out);
    }
}
