package ecar.sample;

import ecar.backend.cpu.CpuBackend;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fixtures this repository carries (src/test/resources/fixtures, made by tools/fixtures/dit_fixed_variance.py
 * from the official DiT code and tools/fixtures/flowar_head_v2.py from the official FlowAR code): DiT without learned
 * variance (FIXED_LARGE and FIXED_SMALL DDPM posteriors, DDIM, guided and unguided) at patch 4, a learned-sigma DiT
 * at patch 8, and FlowAR with v2 flow-head blocks (FlowAR-L/H's and ECAR's: the shared fixtures hold v1 only), its flow
 * head's forward pass and the whole FlowAR sampler,
 * through the normal loading path (CliTest runs them through `ecar check`). They need no ECAR_FIXTURES.
 */
class BundledFixturesTest {
    public static final Path FOLDER = Path.of("src/test/resources/fixtures");

    static List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(FOLDER)) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyBundledFixturePasses() throws IOException {
        List<Path> files = files();
        assertEquals(7, files.size(), "bundled fixtures: " + files);
        CpuBackend cpu = new CpuBackend();
        return files.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> FixturesTest.assertPasses(p, cpu)));
    }
}
