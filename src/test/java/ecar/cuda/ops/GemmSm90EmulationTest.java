package ecar.cuda.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs tools/emulate_gemm_sm90.py, the numpy replay of kernels/gemm_sm90.cu: the 128-byte swizzle TMA writes, the
 * wgmma matrix descriptors that read it back, the accumulator fragment → (row, col) mapping of the epilogue, the
 * ring's mbarrier protocol under random interleavings (with mutants that must fail), clusters of two CTAs sharing W's
 * tile by multicast included, all against X·Wᵀ on random bf16
 * data. Needs python3 with numpy (skipped with the reason otherwise); no GPU.
 */
class GemmSm90EmulationTest {

    /** The replay's transcribed constants are the kernel's (a drifted copy would check some other kernel). */
    @Test
    void emulationUsesTheKernelsConstants() throws IOException {
        String py = java.nio.file.Files.readString(java.nio.file.Path.of("tools", "emulate_gemm_sm90.py"));
        String cu = java.nio.file.Files.readString(GemmSm90SassTest.SOURCE);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^BM, BK, CONSUMERS = (\\d+), (\\d+), (\\d+)$").matcher(py);
        assertTrue(m.find(), "tools/emulate_gemm_sm90.py no longer defines BM, BK, CONSUMERS on one line");
        String[] names = {"BM", "BK", "CONSUMERS"};
        for (int i = 0; i < names.length; i++) {
            assertEquals(GemmSm90SassTest.constant(cu, names[i]), Integer.parseInt(m.group(i + 1)), names[i]);
        }
        m = java.util.regex.Pattern.compile("(?m)^BN_PLAIN, STAGES_PLAIN, BN_WIDE, STAGES_WIDE = (\\d+), (\\d+), (\\d+), (\\d+)$").matcher(py);
        assertTrue(m.find(), "tools/emulate_gemm_sm90.py no longer defines BN_PLAIN, STAGES_PLAIN, BN_WIDE, STAGES_WIDE on one line");
        names = new String[]{"BN_PLAIN", "STAGES_PLAIN", "BN_WIDE", "STAGES_WIDE"};
        for (int i = 0; i < names.length; i++) {
            assertEquals(GemmSm90SassTest.constant(cu, names[i]), Integer.parseInt(m.group(i + 1)), names[i]);
        }
        for (String name : new String[]{"BARRIER_BYTES", "EPI_COLS", "EPI_PITCH"}) {
            assertEquals(GemmSm90SassTest.constant(cu, name), GemmSm90SassTest.constant(py, name), name);
        }
    }

    @Test
    void emulationMatchesAPlainMatmul() throws Exception {
        String out = NumpyReplay.run("emulate_gemm_sm90.py");
        assertTrue(out.contains("layouts:"), out);
        assertEquals(18, NumpyReplay.count(out, "mutant caught"), "every mutant must be caught:\n" + out);
        assertEquals(4, NumpyReplay.count(out, "with q and k rotated, every element"), "the RoPE epilogue is replayed (rows, pairs, split, wide):\n" + out);
        assertTrue(out.contains("with every column rotated by table rows, every element"), "... and ARPG's by table rows:\n" + out);
        assertEquals(12, NumpyReplay.count(out, "row stores): matches"), "the row-store epilogue is replayed:\n" + out);
        assertEquals(4, NumpyReplay.count(out, "clusters of 2 sharing W, "), "the clusters' multicast and cross releases are replayed:\n" + out);
        assertEquals(9, NumpyReplay.count(out, "cooperative, "), "the cooperative consumers are replayed:\n" + out);
        assertEquals(5, NumpyReplay.count(out, "128 x 256 tiles"), "the wide tile is replayed:\n" + out);
        assertEquals(2, NumpyReplay.count(out, "in 3 range(s), 6-stage ring, cooperative"), "... with K split too:\n" + out);
        assertTrue(out.contains("row stores): matches act(gate) * value"), "GATE_PAIRS' row stores are replayed:\n" + out);
    }
}
