package ecar.cli;

import ecar.io.SafeTensorsWriter;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** No Error reaches the user as a stack trace: out of memory and stack overflow are one line and exit code 1. */
class TopLevelErrorsTest {
    @TempDir
    Path dir;

    @Command(name = "throws")
    static final class Throwing implements Callable<Integer> {
        final Error error;

        Throwing(Error error) {
            this.error = error;
        }

        @Override
        public Integer call() {
            throw error;
        }
    }

    private static String errorOf(Error e) {
        CommandLine cl = new CommandLine(new Throwing(e));
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(1, Main.execute(cl));
        return err.toString();
    }

    @Test
    void outOfMemoryIsOneLineNamingTheHeapAndTheRemedy() {
        String err = errorOf(new OutOfMemoryError("Java heap space"));
        assertTrue(err.startsWith("ecar: out of memory (Java heap space): the Java heap is limited to "), err);
        assertTrue(err.contains("ECAR_JAVA_OPTS=-Xmx"), err);
        assertEquals(1, err.strip().lines().count(), err);
    }

    @Test
    void stackOverflowIsOneLine() {
        String err = errorOf(new StackOverflowError());
        assertEquals("ecar: stack overflow: an input nests deeper than the code can follow (run with -Decar.trace=true for where)", err.strip());
    }

    /**
     * A real out-of-memory in one fixture of several: a child JVM with a 48 MiB heap checks a fixture whose input is a
     * 128 MiB tensor; that fixture fails with one line and the next is still checked.
     */
    @Test
    void aFixtureTooBigForTheHeapFailsAloneInCheck() throws Exception {
        Path big = dir.resolve("big.safetensors"), odd = dir.resolve("odd.safetensors"), log = dir.resolve("check.log");
        new SafeTensorsWriter().metadata("kind", "vae.decode").metadata("config", "{\"ch\": 32, \"ch_mult\": [1, 2], \"num_res_blocks\": 1, \"z_channels\": 4}")
                .add("input.z", new FloatTensor(ecar.tensor.Shape.of(1, 4, 2048, 4096), new float[4 * 2048 * 4096])).write(big);
        new SafeTensorsWriter().metadata("kind", "dit.backward").add("x", FloatTensor.of(new float[]{1}, 1)).write(odd);
        Process p = ChildJvm.start(log, Map.of(), List.of("-Xmx48m"), "ecar.cli.Main", "check", big.toString(), odd.toString());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("check did not finish in 60 s: " + ChildJvm.log(log));
        }
        String out = ChildJvm.log(log);
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.contains("FAIL " + big + "\n  out of memory (Java heap space): the Java heap is limited to "), out);
        assertTrue(out.contains("unknown fixture kind 'dit.backward'") && out.contains("0 of 2 fixtures passed"), out);
        assertFalse(out.contains("\tat ") || out.contains("Exception in thread"), out);
    }
}
