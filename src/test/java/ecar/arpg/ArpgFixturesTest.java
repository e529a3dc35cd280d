package ecar.arpg;

import ecar.backend.cpu.CpuBackend;
import ecar.fixture.Comparison;
import ecar.fixture.Fixture;
import ecar.sample.FixtureRunner;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parity fixtures of ECAR_FIXTURES/arpg/ (FixturesTest runs only the top folder) through the normal loading path,
 * one dynamic test per file whose kind a family or decoder of this build registers.
 */
class ArpgFixturesTest {
    private static final String ORDER_CHECK = "fixture: input order vs expected tokens";
    private final CpuBackend cpu = new CpuBackend();

    static Path folder() {
        String env = System.getenv("ECAR_FIXTURES");
        Assumptions.assumeTrue(env != null && !env.isBlank(), "ECAR_FIXTURES is not set: the ARPG parity fixtures (ECAR_FIXTURES/arpg) not run");
        Path dir = Path.of(env).resolve("arpg");
        Assumptions.assumeTrue(Files.isDirectory(dir), dir + " is not a folder: the ARPG parity fixtures not run");
        return dir;
    }

    @TestFactory
    Stream<DynamicTest> everyArpgFixturePasses() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(folder())) {
            files = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(!files.isEmpty(), "no .safetensors fixtures in " + folder());
        return files.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> {
            String kind;
            try (Fixture f = Fixture.open(p)) {
                kind = f.kind();
            }
            Assumptions.assumeTrue(FixtureRunner.kinds().contains(kind), p.getFileName() + ": kind " + kind + " is not registered in this build");
            List<Comparison> results = FixtureRunner.run(p, cpu);
            String report = report(p, results);
            System.out.println(report);
            for (Comparison c : results) {
                // a fixture whose order is not the one its outputs were made with cannot judge us: say so, loudly
                Assumptions.assumeTrue(!c.name().equals(ORDER_CHECK) || c.passed(), p.getFileName() + " is inconsistent, " + c.note()
                        + "; regenerate it (generateMatchesTheOrderTheReferenceRanWith checks its outputs meanwhile)");
            }
            assertTrue(!results.isEmpty() && results.stream().allMatch(Comparison::passed), report);
        }));
    }

    /**
     * arpg_generate_tiny.safetensors as shared today: its input.orders is torch.manual_seed(11)'s first
     * torch.rand(16).argsort() + 1, but the reference's generate drew another order, so its logits and tokens disagree
     * with input.orders from step 1 on (6.8% relative L2 at step 1, also with the reference's own numpy replay). The order
     * it ran with, recovered from its expected tokens and logits (step 0's three positions in any order: a step's fed
     * tokens attend to each other without a mask, so their order within the step changes nothing), reproduces every
     * expected tensor. This test holds our model to those outputs until the fixture is regenerated.
     */
    @Test
    void generateMatchesTheOrderTheReferenceRanWith() {
        Path p = folder().resolve("arpg_generate_tiny.safetensors");
        Assumptions.assumeTrue(Files.isRegularFile(p), p + " not found");
        int[] seed11 = {8, 1, 4, 11, 13, 14, 2, 16, 9, 7, 5, 6, 15, 12, 10, 3};
        int[] ranWith = {2, 15, 6, 9, 11, 12, 14, 7, 5, 3, 4, 16, 13, 10, 8, 1};
        try (Fixture f = Fixture.open(p)) {
            Assumptions.assumeTrue(Arrays.equals(f.ints("orders"), seed11), p.getFileName() + " is no longer the fixture with the wrong order");
            List<Comparison> results = ArpgFixtures.generate(f, cpu, ranWith);
            String report = report(p, results);
            System.out.println(report);
            assertTrue(results.stream().allMatch(Comparison::passed), report);
        }
    }

    private static String report(Path p, List<Comparison> results) {
        StringBuilder b = new StringBuilder(p.getFileName().toString());
        for (Comparison c : results) {
            b.append(String.format("%n  %s: error %.3e (tolerance %.0e) %s%s", c.name(), c.relError(), c.tolerance(), c.passed() ? "ok" : "FAIL",
                    c.note().isEmpty() ? "" : " (" + c.note() + ")"));
        }
        return b.toString();
    }
}
