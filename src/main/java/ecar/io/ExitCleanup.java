package ecar.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Temporary files that must not outlive the process, removed by a shutdown hook. A {@code finally} block is not enough:
 * on SIGINT, SIGTERM or SIGHUP the JVM runs its shutdown hooks and halts, and the thread that was writing never reaches
 * its {@code finally}. Once the hook has begun nothing more is registered or moved into place, and a move in progress
 * finishes before the hook deletes anything (both hold this object's lock), so an output either was complete before the
 * signal or does not exist, and no temporary file is left. SIGKILL and a power cut still leave one behind.
 */
final class ExitCleanup {
    /** The process's registry, its hook installed on first use. */
    static final ExitCleanup PROCESS = new ExitCleanup();

    private final Set<Path> pending = new LinkedHashSet<>();
    private boolean hookInstalled, exiting;

    /** Files created from now on are deleted by {@link #exit()} unless {@link #forget forgotten} first. */
    synchronized void register(Path file) throws IOException {
        if (exiting) {
            Files.deleteIfExists(file);
            throw new IOException("not writing " + file + ": the JVM is shutting down");
        }
        if (this == PROCESS && !hookInstalled) {
            Runtime.getRuntime().addShutdownHook(new Thread(this::exit, "ecar temporary files"));
            hookInstalled = true;
        }
        pending.add(file);
    }

    /** Deletes a registered file now (it was not needed) and forgets it. */
    synchronized void discard(Path file) throws IOException {
        pending.remove(file);
        Files.deleteIfExists(file);
    }

    /** Moves a registered file onto {@code target} atomically and forgets it; refused once the process is exiting. */
    synchronized void moveIntoPlace(Path file, Path target) throws IOException {
        if (exiting) throw new IOException("not writing " + target + ": the JVM is shutting down");
        Files.move(file, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        pending.remove(file);
    }

    /** The shutdown hook's work: every registered file deleted, and no more accepted. */
    synchronized void exit() {
        exiting = true;
        for (Path p : pending) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException | RuntimeException e) {
                // nothing to report to at exit; the file's name starts with a dot and ends in .part, marking it as debris
            }
        }
        pending.clear();
    }

    synchronized List<Path> pending() {
        return new ArrayList<>(pending);
    }
}
