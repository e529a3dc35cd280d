package ecar.cuda.ops;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With ECAR_PDL=on a kernel may start while the one before it still runs (ecar.cuda.LaunchDriver): it must not touch
 * memory before its griddepcontrol.wait (kernels/common.cuh's pdl_enter). In the PTX (compute_90) of every family, each
 * entry point issues griddepcontrol.launch_dependents and griddepcontrol.wait before its first load, store, atomic or
 * asynchronous copy that is not to parameters, shared or local memory (the Hopper families' sm_90a code, not their
 * compute_90 trap). Needs nvcc, no GPU.
 */
class ProgrammaticLaunchPtxTest {
    /**
     * An instruction that may read or write global memory (generic addresses included): all but param, shared, local,
     * and prefetches (prefetch.*, cp.async.bulk.prefetch.*: hints that change no value, which gemm_skinny and gemm_sm90
     * issue for their weights before the wait).
     */
    private static final Pattern MEMORY = Pattern.compile("(?m)^\\s*(?:@!?%p\\d+\\s+)?((?:ld|st|atom|red|cp|tex|suld|sust)\\.(?!param|shared|local|async\\.bulk\\.prefetch)[\\w.:]*)");

    @Test
    void everyEntryPointWaitsForItsPredecessorBeforeTouchingMemory() throws IOException {
        Assumptions.assumeTrue(Ptx.nvccAvailable(), Ptx.NO_NVCC);
        List<String> families = new ArrayList<>();
        try (var files = Files.list(Path.of("kernels"))) {
            files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".cu")).sorted().forEach(n -> families.add(n.substring(0, n.length() - 3)));
        }
        assertTrue(families.size() >= 10, "kernels/*.cu: " + families);
        int entries = 0;
        List<String> wrong = new ArrayList<>();
        for (String family : families) {
            for (Map.Entry<String, String> e : Ptx.bodies(family).entrySet()) {
                String body = e.getValue();
                int launch = body.indexOf("griddepcontrol.launch_dependents"), wait = body.indexOf("griddepcontrol.wait");
                Matcher m = MEMORY.matcher(body);
                int first = m.find() ? m.start(1) : Integer.MAX_VALUE;
                if (launch < 0 || wait < 0) wrong.add(family + "/" + e.getKey() + ": no " + (launch < 0 ? "griddepcontrol.launch_dependents" : "griddepcontrol.wait"));
                else if (first < wait) wrong.add(family + "/" + e.getKey() + ": '" + m.group(1) + "' before griddepcontrol.wait");
                entries++;
            }
        }
        assertTrue(entries >= 60, "only " + entries + " entry points found");
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + entries + " entry points could touch memory before their predecessor ended:\n  " + String.join("\n  ", wrong));
    }
}
