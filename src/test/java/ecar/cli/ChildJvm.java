package ecar.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A class run in a JVM of its own, with the same java and class path as the test JVM: for what only a separate process
 * shows (signals, exit codes, environment variables, a small heap). Output and errors go together to a log file.
 */
final class ChildJvm {
    private ChildJvm() {}

    static Process start(Path log, Map<String, String> env, List<String> jvmFlags, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true",
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))));
        cmd.addAll(jvmFlags);
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    static String log(Path log) {
        try {
            return Files.readString(log).replace("WARNING: Using incubator modules: jdk.incubator.vector\n", "");
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Whether the process ignores the signal (inherited SIG_IGN, as under nohup or some CI runners): Linux only. */
    static boolean ignores(Process p, int signal) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
                if (line.startsWith("SigIgn:")) return (Long.parseUnsignedLong(line.substring(7).strip(), 16) >>> (signal - 1) & 1) != 0;
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }
}
