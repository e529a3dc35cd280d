package ecar.cuda.ops;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs one of the numpy replays of a kernel (tools/emulate_*.py) for a test, with no GPU. */
final class NumpyReplay {
    private NumpyReplay() {}

    /**
     * The output of {@code python3 tools/SCRIPT}, which must exit 0 and print "all checks passed"; the test is skipped
     * with the reason where python3 with numpy is not available.
     */
    static String run(String script) throws IOException, InterruptedException {
        String probe;
        try {
            probe = exec("python3", "-c", "import numpy");
        } catch (IOException e) {
            probe = "no python3: " + e.getMessage();
        }
        Assumptions.assumeTrue(probe.startsWith("0\n"), "python3 with numpy is not available, tools/" + script + " not run: " + probe.strip());
        String out = exec("python3", "tools/" + script);
        assertEquals("0", out.substring(0, out.indexOf('\n')), "tools/" + script + " failed:\n" + out);
        assertTrue(out.contains("all checks passed"), out);
        return out;
    }

    /** How many times {@code what} occurs in {@code out}. */
    static int count(String out, String what) {
        return out.split(java.util.regex.Pattern.quote(what), -1).length - 1;
    }

    private static String exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish in 300 s");
        return p.exitValue() + "\n" + out;
    }
}
