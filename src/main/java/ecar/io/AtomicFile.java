package ecar.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An output file that appears whole or not at all: written as a hidden sibling {@code .NAME.<random>.part}, then
 * renamed onto NAME in one atomic step. The sibling is removed when the writer fails, when it is closed without
 * {@link #commit()}, and when the process ends on a signal ({@link ExitCleanup}).
 * <pre>{@code
 * try (AtomicFile f = AtomicFile.beside(out)) {
 *     write(f.temp());
 *     f.commit();
 * }
 * }</pre>
 */
public final class AtomicFile implements AutoCloseable {
    /**
     * Tests only: milliseconds to wait after the temporary file is created, so that a test can signal the process while
     * it is writing (ecar.cli.InterruptedWriteTest). Unset in normal runs.
     */
    static final String PAUSE_PROPERTY = "ecar.test.writePauseMs";

    private final Path temp, target;
    private final ExitCleanup cleanup;
    private boolean done;

    private AtomicFile(Path temp, Path target, ExitCleanup cleanup) {
        this.temp = temp;
        this.target = target;
        this.cleanup = cleanup;
    }

    /** A new empty temporary sibling of {@code target}, in the same folder so the rename stays on one file system. */
    public static AtomicFile beside(Path target) throws IOException {
        AtomicFile f = new AtomicFile(createSibling(target, ".part", ExitCleanup.PROCESS), target, ExitCleanup.PROCESS);
        pauseForTests();
        return f;
    }

    /**
     * Creates and removes a temporary sibling of {@code target}: whether files can be made there, asked of the file system
     * itself (permission bits say little as root or on special file systems). Throws the file system's error if not.
     */
    public static void probe(Path target) throws IOException {
        ExitCleanup.PROCESS.discard(createSibling(target, ".probe", ExitCleanup.PROCESS));
    }

    /** Exposed to tests with their own registry. */
    static AtomicFile beside(Path target, ExitCleanup cleanup) throws IOException {
        return new AtomicFile(createSibling(target, ".part", cleanup), target, cleanup);
    }

    private static Path createSibling(Path target, String suffix, ExitCleanup cleanup) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || abs.getFileName() == null) throw new IOException(target + " is not a file name");
        while (true) {
            Path tmp = dir.resolve("." + abs.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + suffix);
            try {
                // not Files.createTempFile: its owner-only permissions would stay on the file after the rename
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
            } catch (FileAlreadyExistsException e) {
                continue;
            }
            cleanup.register(tmp);
            return tmp;
        }
    }

    private static void pauseForTests() {
        long ms = Long.getLong(PAUSE_PROPERTY, 0);
        if (ms <= 0) return;
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Where to write. */
    public Path temp() {
        return temp;
    }

    /** Renames the written file onto the target, replacing what was there. */
    public void commit() throws IOException {
        if (done) throw new IllegalStateException(target + ": already committed or discarded");
        cleanup.moveIntoPlace(temp, target);
        done = true;
    }

    /** Removes the temporary file unless it was committed. */
    @Override
    public void close() throws IOException {
        if (done) return;
        done = true;
        cleanup.discard(temp);
    }
}
