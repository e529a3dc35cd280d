package ecar.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tools/gpu_session.sh, the one command of a GPU visit, checked here where a mistake costs nothing: its dry run with
 * GPU_SESSION_STEPS="1 5 10" names every step in its summary, marks each step not asked for NOT-RUN (not a failure,
 * not "cannot import torch"), shows the commands it would run for the steps asked, and writes nothing to OUTDIR.
 */
class GpuSessionScriptTest {
    static final List<String> STEPS = List.of("0 bundle", "1 info --check", "2 gpu tests", "3 sanitizers", "4 generate tiny", "5 compare",
            "12 device profile", "13 settings A/B", "6 benchmarks", "7 torch pipelines", "11 gemm no-store", "8 torch.compile", "9 ncu", "10 kernel times");

    @Test
    void aDryRunNamesEveryStepAndLeavesTheOnesNotAskedForNotRun(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        ProcessBuilder pb = new ProcessBuilder("bash", "tools/gpu_session.sh", "--dry-run", out.toString()).redirectErrorStream(true);
        pb.environment().put("GPU_SESSION_STEPS", "1 5 10");
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the dry run did not finish");
        assertEquals(0, p.exitValue(), log);
        for (String step : STEPS) {
            assertTrue(Pattern.compile("(?m)^" + Pattern.quote(step) + " +\\S+ +\\d+s").matcher(log).find(), "no summary line for step " + step + ":\n" + log);
        }
        for (String step : List.of("2 gpu tests", "3 sanitizers", "4 generate tiny", "12 device profile", "13 settings A/B", "6 benchmarks", "7 torch pipelines",
                "11 gemm no-store", "8 torch.compile", "9 ncu")) {
            assertTrue(Pattern.compile("(?m)^" + Pattern.quote(step) + " +NOT-RUN +\\d+s +not in GPU_SESSION_STEPS \\(0 1 5 10\\)$").matcher(log).find(),
                    step + " is not NOT-RUN:\n" + log);
        }
        assertTrue(log.contains("would run (cap 60s): dist/ecar-runtime/ecar info --check"), log);
        assertTrue(log.contains("dist/ecar-runtime/ecar compare --backend cuda --image-size 256"), log);
        assertTrue(!log.contains("cannot import torch"), log);
        assertTrue(!Files.exists(out) || Files.list(out).findAny().isEmpty(), "a dry run writes nothing to OUTDIR");
    }
}
