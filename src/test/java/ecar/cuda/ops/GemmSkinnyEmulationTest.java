package ecar.cuda.ops;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs tools/emulate_gemm_skinny.py, the numpy replay of kernels/gemm_skinny.cu's work split (the K ranges of the
 * warps that share a pair of columns, the in-order sum of the ranges, the block rows of 16 rows, the guarded stores),
 * with mutants that must fail. It reads the kernel's constants from the source; its copy of GemmKernels.skinnySplit must be the launcher's.
 * Needs python3 with numpy (skipped with the reason otherwise); no GPU.
 */
class GemmSkinnyEmulationTest {
    private static final Path SCRIPT = Path.of("tools", "emulate_gemm_skinny.py");

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish in 120 s");
        return p.exitValue() + "\n" + out;
    }

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
        String probe;
        try {
            probe = run("python3", "-c", "import numpy");
        } catch (IOException e) {
            probe = "no python3: " + e.getMessage();
        }
        Assumptions.assumeTrue(probe.startsWith("0\n"), "python3 with numpy is not available, " + SCRIPT + " not run: " + probe.strip());
        String out = run("python3", SCRIPT.toString());
        assertEquals("0", out.substring(0, out.indexOf('\n')), SCRIPT + " failed:\n" + out);
        assertTrue(out.contains("all checks passed"), out);
        assertEquals(5, out.split("mutant caught", -1).length - 1, "every mutant must be caught:\n" + out);
        assertTrue(out.contains("ksplit 4 ("), "K split four ways is replayed:\n" + out);
        assertTrue(out.contains(" x 3 blocks of "), "several block rows of 16 rows are replayed:\n" + out);
    }
}
