package ecar.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * A signal while an output is being written leaves no file behind, neither the output nor its temporary sibling. The
 * child process pauses right after creating the temporary file (the test-only property ecar.test.writePauseMs of
 * ecar.io.AtomicFile), so the signal lands inside the write every time; the test signals as soon as the file shows.
 */
class InterruptedWriteTest {
    private static final int SIGINT = 2, SIGTERM = 15;

    @TempDir
    Path dir;

    private List<String> outputFolder() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("out"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Starts the child, waits for its temporary file, signals it and returns its exit code. */
    private int interruptWhileWriting(String mainClass, String partPrefix, int signal, String... args) throws Exception {
        Files.createDirectories(dir.resolve("out"));
        Path log = dir.resolve("child.log");
        Process p = ChildJvm.start(log, Map.of(), List.of("-Xmx512m", "-Decar.test.writePauseMs=60000"), mainClass, args);
        try {
            assumeFalse(signal == SIGINT && ChildJvm.ignores(p, SIGINT), "the test JVM's children ignore SIGINT here (inherited), so it cannot be delivered");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (outputFolder().stream().noneMatch(n -> n.startsWith(partPrefix) && n.endsWith(".part"))) {
                if (!p.isAlive()) fail("the child ended (exit " + p.exitValue() + ") before writing: " + ChildJvm.log(log));
                if (System.nanoTime() > deadline) fail("no temporary file appeared in 60 s: " + ChildJvm.log(log));
                Thread.sleep(20);
            }
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor();
            if (!p.waitFor(30, TimeUnit.SECONDS)) fail("the child did not exit within 30 s of signal " + signal + ": " + ChildJvm.log(log));
            return p.exitValue();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void sigintWhileThePngIsWrittenLeavesNoFile() throws Exception {
        int code = interruptWhileWriting("ecar.cli.Main", ".grid.png.", SIGINT, "generate", "--model", "dit-tiny", "--class", "1", "--steps", "1",
                "--backend", "cpu", "--out", dir.resolve("out/grid.png").toString());
        assertEquals(128 + SIGINT, code);
        assertEquals(List.of(), outputFolder(), "neither grid.png nor its temporary file");
    }

    @Test
    void sigtermWhileASafetensorsFileIsWrittenLeavesNoFile() throws Exception {
        int code = interruptWhileWriting("ecar.io.WriteSafeTensorsMain", ".w.safetensors.", SIGTERM, dir.resolve("out/w.safetensors").toString());
        assertEquals(128 + SIGTERM, code);
        assertEquals(List.of(), outputFolder());
        assertFalse(Files.exists(dir.resolve("out/w.safetensors")));
    }
}
