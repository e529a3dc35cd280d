package ecar.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Where measured numbers came from, beyond the backend's name: the host, and the CPU model that CPU timings depend on. */
final class MachineInfo {
    private MachineInfo() {}

    static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", firstLine(Path.of("/proc/sys/kernel/hostname")));
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("java", Runtime.version().toString() + " (" + System.getProperty("java.vendor") + ")");
        return m;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.toLowerCase(Locale.ROOT).startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | RuntimeException e) {
            return null;   // not Linux: the OS and core count still say something
        }
        return null;
    }

    private static String firstLine(Path p) {
        try {
            return Files.readAllLines(p).stream().findFirst().map(String::strip).orElse(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
