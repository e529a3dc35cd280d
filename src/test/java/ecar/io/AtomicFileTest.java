package ecar.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Outputs appear whole or not at all and no temporary file is left, whether the writer commits, fails or the process
 * exits (the shutdown hook's work, run here on a registry of the test's own; a real signal: ecar.cli.InterruptedWriteTest).
 */
class AtomicFileTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aCommittedFileReplacesTheTargetAndLeavesNothingElse() throws IOException {
        Path out = Files.writeString(dir.resolve("out.bin"), "old");
        ExitCleanup cleanup = new ExitCleanup();
        try (AtomicFile f = AtomicFile.beside(out, cleanup)) {
            assertTrue(f.temp().getFileName().toString().matches("\\.out\\.bin\\.[0-9a-f]+\\.part"), f.temp().toString());
            Files.writeString(f.temp(), "new");
            assertEquals("old", Files.readString(out), "the target is untouched until the commit");
            f.commit();
        }
        assertEquals("new", Files.readString(out));
        assertEquals(List.of("out.bin"), names());
        assertEquals(List.of(), cleanup.pending());
    }

    @Test
    void aFailedWriteLeavesNeitherTargetNorTemporaryFile() throws IOException {
        Path out = dir.resolve("out.bin");
        ExitCleanup cleanup = new ExitCleanup();
        assertThrows(IOException.class, () -> {
            try (AtomicFile f = AtomicFile.beside(out, cleanup)) {
                Files.writeString(f.temp(), "half");
                throw new IOException("disk full");
            }
        });
        assertEquals(List.of(), names());
        assertEquals(List.of(), cleanup.pending());
    }

    /** What a signal does: the hook deletes the file being written, and the writer can no longer move anything into place. */
    @Test
    void exitRemovesFilesBeingWrittenAndRefusesLaterWrites() throws IOException {
        Path out = dir.resolve("out.bin");
        ExitCleanup cleanup = new ExitCleanup();
        AtomicFile f = AtomicFile.beside(out, cleanup);
        Files.writeString(f.temp(), "half");
        cleanup.exit();
        assertEquals(List.of(), names());
        var e = assertThrows(IOException.class, f::commit);
        assertEquals("not writing " + out + ": the JVM is shutting down", e.getMessage());
        assertThrows(IOException.class, () -> AtomicFile.beside(dir.resolve("later.bin"), cleanup));
        assertEquals(List.of(), names(), "a file created after the hook began is removed at once");
    }

    @Test
    void theResultKeepsTheUsualPermissions() throws IOException {
        Path plain = Files.writeString(dir.resolve("plain.bin"), "x"), out = dir.resolve("out.bin");
        try (AtomicFile f = AtomicFile.beside(out, new ExitCleanup())) {
            f.commit();
        }
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(out), "not createTempFile's owner-only rw-------");
    }

    @Test
    void aProbeLeavesNothing() throws IOException {
        AtomicFile.probe(dir.resolve("x.png"));
        assertEquals(List.of(), names());
        assertFalse(ExitCleanup.PROCESS.pending().stream().anyMatch(p -> p.startsWith(dir)));
    }
}
