package ecar;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Running the project's Python tools from tests: finding an interpreter (with torch where needed) and running a command. */
public final class PythonScripts {
    private PythonScripts() {}

    /** A finished command: its exit status and its output (stdout and stderr together). */
    public record Result(int exit, String log) {}

    /** Runs cmd to its end (at most 2 minutes) and returns its status and output. */
    public static Result run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), cmd + " did not finish");
        return new Result(p.exitValue(), log);
    }

    /** The first interpreter that imports torch ($ECAR_PYTHON, python3, /usr/bin/python3: torch often lives in the system one), or null. */
    public static String withTorch() {
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("ECAR_PYTHON");
        if (env != null && !env.isBlank()) candidates.add(env);
        candidates.addAll(List.of("python3", "/usr/bin/python3"));
        for (String c : candidates) if (works(c, "import torch")) return c;
        return null;
    }

    /** True when python3 runs at all. */
    public static boolean python3() {
        return works("python3", "pass");
    }

    private static boolean works(String exe, String code) {
        try {
            Process p = new ProcessBuilder(exe, "-c", code).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
