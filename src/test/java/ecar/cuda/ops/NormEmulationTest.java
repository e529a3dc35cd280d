package ecar.cuda.ops;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs tools/emulate_norm_rows.py, the numpy replay of kernels/norm.cu's rows held in a warp's registers (lane l the
 * float4s l, l + 32, …, zeros past the row), LayerNorm and RMSNorm with a weight or the adaLN modulation on rows of 4
 * to 2048 columns, with mutants that must fail. Needs python3 with numpy (skipped with the reason otherwise); no GPU.
 */
class NormEmulationTest {

    @Test
    void replayMatchesTheFormulaAndCatchesItsMutants() throws Exception {
        String out = NumpyReplay.run("emulate_norm_rows.py");
        assertEquals(3, NumpyReplay.count(out, "mutant caught"), "every mutant must be caught:\n" + out);
        assertEquals(6, NumpyReplay.count(out, "every column written once, matches"), "six row widths are replayed:\n" + out);
        assertTrue(out.contains("2048 columns (512 float4s"), "the widest row the registers hold:\n" + out);
    }
}
