package ecar.cuda.ops;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java signatures the wrappers launch with against the kernels' real parameter lists: each family is compiled
 * to PTX (compute_90) and every launched entry point's .param list must match in count and width (a pointer or
 * 64-bit integer is .u64, an int .u32, a float .f32). A mismatch would otherwise only show on a GPU as garbage.
 * Needs nvcc (skipped with the reason without it); no GPU.
 */
class KernelAbiTest {

    @Test
    void launchedSignaturesMatchThePtxParameters() {
        Assumptions.assumeTrue(Ptx.nvccAvailable(), Ptx.NO_NVCC);
        OpsValidationTest calls = new OpsValidationTest();
        calls.launchEverything();
        Map<String, Map<String, List<String>>> ptx = new HashMap<>();
        int checked = 0;
        for (RecordingLauncher.Call c : calls.rec.calls) {
            Ptx.assertMatches(c.signature(), c.family(), ptx.computeIfAbsent(c.family(), Ptx::entries));
            checked++;
        }
        assertTrue(checked >= 20, "only " + checked + " launches checked");
    }
}
