package ecar.selfcheck;

import ecar.io.AtomicFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * GPU self-check verdicts kept between runs, so that the check costs its seconds once per device, driver and build.
 * A small text file, one line per key: {@code key TAB passed|failed TAB reason TAB yyyy-mm-dd}. Lines that do not
 * parse are ignored (a damaged file only means checking again), and a file or folder that cannot be read or written
 * is no error: the check then simply runs each time.
 */
public final class VerdictCache {
    static final String FILE_NAME = "gpu-selfcheck.tsv";
    private static final String HEADER = "# ecar GPU self-check verdicts: key, verdict, reason, date. Delete a line (or the file) to check again.";

    private final Path file;

    public VerdictCache(Path file) {
        this.file = file;
    }

    /** $XDG_CACHE_HOME/ecar, else ~/.cache/ecar (the XDG default), else none when neither is known. */
    public static Optional<VerdictCache> standard(Map<String, String> env, String userHome) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path dir;
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) dir = Path.of(xdg, "ecar");   // the spec ignores relative values
        else if (userHome != null && !userHome.isBlank()) dir = Path.of(userHome, ".cache", "ecar");
        else return Optional.empty();
        return Optional.of(new VerdictCache(dir.resolve(FILE_NAME)));
    }

    public static Optional<VerdictCache> standard() {
        return standard(System.getenv(), System.getProperty("user.home"));
    }

    public Path file() {
        return file;
    }

    /** The verdict stored for the key; empty when there is none, or the file is missing, unreadable or damaged there. */
    public Optional<Verdict> read(SelfCheckKey key) {
        return Optional.ofNullable(entries().get(key.text()));
    }

    /**
     * Stores the verdict for the key, keeping the other keys' lines. False when the file cannot be written (read-only
     * home, full disk): the caller goes on without a cache.
     */
    public boolean write(SelfCheckKey key, Verdict v) {
        Map<String, Verdict> all = entries();
        all.put(key.text(), v);
        List<String> lines = new ArrayList<>();
        lines.add(HEADER);
        all.forEach((k, x) -> lines.add(k + "\t" + (x.passed() ? "passed" : "failed") + "\t" + oneLine(x.reason()) + "\t" + x.date()));
        try {
            Files.createDirectories(file.getParent());
            // Written beside and moved into place, so that a run cut short or a concurrent reader never sees half a file.
            try (AtomicFile f = AtomicFile.beside(file)) {
                Files.write(f.temp(), lines, StandardCharsets.UTF_8);
                f.commit();
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private Map<String, Verdict> entries() {
        Map<String, Verdict> m = new LinkedHashMap<>();
        List<String> lines;
        try {
            if (!Files.isRegularFile(file)) return m;
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return m;   // unreadable or not UTF-8: as if there were no cache
        }
        for (String line : lines) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] f = line.split("\t", -1);
            if (f.length != 4 || f[0].isBlank()) continue;
            Boolean passed = switch (f[1]) {
                case "passed" -> true;
                case "failed" -> false;
                default -> null;
            };
            if (passed == null) continue;
            try {
                m.put(f[0], new Verdict(passed, f[2], LocalDate.parse(f[3])));
            } catch (DateTimeParseException e) {
                // a damaged line: skipped, so that key is checked again
            }
        }
        return m;
    }

    private static String oneLine(String s) {
        return s.replaceAll("[\\t\\r\\n]+", " ").strip();
    }
}
