package ecar.selfcheck;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decision of --backend auto with a fake check: no GPU means no check; a verdict is run once and then read. */
class AutoChoiceTest {
    @TempDir
    Path dir;

    static final Clock CLOCK = Clock.fixed(java.time.Instant.parse("2026-11-23T17:00:00Z"), ZoneOffset.UTC);
    static final LocalDate DAY = LocalDate.of(2026, 11, 23);
    static final SelfCheckKey KEY = VerdictCacheTest.H100;
    static final AutoChoice.Gpu H100 = new AutoChoice.Gpu(true, "NVIDIA H100 80GB HBM3", () -> KEY);

    /** A fake check that counts its runs and answers what it is given. */
    static final class Fake implements SelfCheck {
        final AtomicInteger runs = new AtomicInteger();
        final Verdict answer;

        Fake(Verdict answer) {
            this.answer = answer;
        }

        @Override
        public Verdict run() {
            runs.incrementAndGet();
            return answer;
        }
    }

    private Optional<VerdictCache> cache() {
        return Optional.of(new VerdictCache(dir.resolve(VerdictCache.FILE_NAME)));
    }

    @Test
    void withoutAGpuTheCpuIsChosenSilentlyAndNothingIsChecked() {
        SelfCheck never = () -> {
            throw new AssertionError("the self-check ran without a GPU");
        };
        AutoChoice.Decision d = new AutoChoice(Map.of(), cache(), never, CLOCK).decide(AutoChoice.Gpu.absent());
        assertFalse(d.useGpu());
        assertFalse(d.checkRan());
        assertNull(d.message());
        assertFalse(Files.exists(dir.resolve(VerdictCache.FILE_NAME)), "no verdict stored");
    }

    @Test
    void aPassIsRunOnceThenReadFromTheCache() {
        Fake check = new Fake(Verdict.pass(DAY));
        AutoChoice.Decision first = new AutoChoice(Map.of(), cache(), check, CLOCK).decide(H100);
        assertTrue(first.useGpu() && first.checkRan());
        assertEquals("ecar: GPU NVIDIA H100 80GB HBM3: self-check passed — using the CUDA backend", first.message());

        AutoChoice.Decision again = new AutoChoice(Map.of(), cache(), check, CLOCK).decide(H100);
        assertTrue(again.useGpu());
        assertFalse(again.checkRan());
        assertEquals(1, check.runs.get(), "the cached verdict is used");
        assertEquals("ecar: GPU NVIDIA H100 80GB HBM3: self-check passed (cached 2026-11-23) — using the CUDA backend", again.message());
    }

    @Test
    void aFailureKeepsTheCpuAndSaysWhyAndHowToForce() {
        Fake check = new Fake(Verdict.fail("ecar-tiny sampled latents: cosine with the CPU's is 0.41, expected ≥ 0.99", DAY));
        AutoChoice.Decision d = new AutoChoice(Map.of(), cache(), check, CLOCK).decide(H100);
        assertFalse(d.useGpu());
        assertTrue(d.message().contains("self-check failed: ecar-tiny sampled latents: cosine"), d.message());
        assertTrue(d.message().contains("--backend cuda forces the GPU"), d.message());
        assertFalse(new AutoChoice(Map.of(), cache(), check, CLOCK).decide(H100).useGpu(), "the failure is cached too");
        assertEquals(1, check.runs.get());
    }

    @Test
    void aCheckThatThrowsFailsWithTheThrowableAsTheReason() {
        SelfCheck throwing = () -> {
            throw new OutOfMemoryError("CUDA_ERROR_OUT_OF_MEMORY");
        };
        AutoChoice.Decision d = new AutoChoice(Map.of(), cache(), throwing, CLOCK).decide(H100);
        assertFalse(d.useGpu());
        assertTrue(d.message().contains("OutOfMemoryError: CUDA_ERROR_OUT_OF_MEMORY"), d.message());
        assertEquals(Optional.of(Verdict.fail("OutOfMemoryError: CUDA_ERROR_OUT_OF_MEMORY", DAY)), cache().orElseThrow().read(KEY));
    }

    @Test
    void theEnvironmentVariableKeepsTheCpuWithoutChecking() {
        for (String off : new String[]{"0", "false", "OFF", "no"}) {
            Fake check = new Fake(Verdict.pass(DAY));
            AutoChoice.Decision d = new AutoChoice(Map.of(AutoChoice.ENV, off), cache(), check, CLOCK).decide(H100);
            assertFalse(d.useGpu(), off);
            assertEquals(0, check.runs.get(), off);
            assertTrue(d.message().contains(AutoChoice.ENV + "=" + off) && d.message().contains("--backend cuda"), d.message());
        }
        assertTrue(new AutoChoice(Map.of(AutoChoice.ENV, "1"), cache(), new Fake(Verdict.pass(DAY)), CLOCK).decide(H100).useGpu());
    }

    @Test
    void withoutACacheTheCheckRunsEachTime() throws Exception {
        Fake check = new Fake(Verdict.pass(DAY));
        Path blocker = Files.writeString(dir.resolve("ecar"), "a file where the folder should be");
        Optional<VerdictCache> unwritable = Optional.of(new VerdictCache(blocker.resolve(VerdictCache.FILE_NAME)));
        for (Optional<VerdictCache> c : java.util.List.of(Optional.<VerdictCache>empty(), unwritable)) {
            assertTrue(new AutoChoice(Map.of(), c, check, CLOCK).decide(H100).useGpu());
            assertTrue(new AutoChoice(Map.of(), c, check, CLOCK).decide(H100).checkRan());
        }
        assertEquals(4, check.runs.get());
    }
}
