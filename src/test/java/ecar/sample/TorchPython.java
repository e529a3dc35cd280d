package ecar.sample;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Python with torch that tests of tools/convert_checkpoint.py run (torch often lives in the system python beside a pyenv one). */
final class TorchPython {
    private TorchPython() {}

    /** The reason the tests skip when no interpreter imports torch. */
    static final String MISSING = "no python3 with torch (tried $ECAR_PYTHON, python3, /usr/bin/python3; apt-get install python3-torch): "
            + "the conversion of pickled training checkpoints is not tested";

    private static String found;
    private static boolean searched;

    /** The first of $ECAR_PYTHON, python3, /usr/bin/python3 that imports torch, or null. */
    static synchronized String find() {
        if (searched) return found;
        searched = true;
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("ECAR_PYTHON");
        if (env != null && !env.isBlank()) candidates.add(env);
        candidates.addAll(List.of("python3", "/usr/bin/python3"));
        for (String c : candidates) {
            try {
                if (run(List.of(c, "-c", "import torch")).exit == 0) return found = c;
            } catch (Exception e) {
                // not installed: try the next
            }
        }
        return null;
    }

    record Result(int exit, String log) {}

    /** Runs a command from the project root, its output and errors together. */
    static Result run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        return new Result(p.exitValue(), log);
    }
}
