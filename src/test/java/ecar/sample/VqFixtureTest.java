package ecar.sample;

import ecar.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The vq.decode parity fixture (LlamaGen's VQModel.decode_code), which lives in ECAR_FIXTURES/arpg/ beside the
 * ARPG kinds, through the normal loading path: FixtureRunner, the VQ key names, the index-map input.
 */
class VqFixtureTest {
    @Test
    void vqDecodeFixturePasses() {
        Path dir = FixturesTest.folder();
        Assumptions.assumeTrue(dir != null, "ECAR_FIXTURES is not set: the vq.decode fixture (arpg/vq_decode_tiny.safetensors) not run");
        Path f = dir.resolve("arpg/vq_decode_tiny.safetensors");
        Assumptions.assumeTrue(Files.isRegularFile(f), f + " not found: the vq.decode fixture not run");
        FixturesTest.assertPasses(f, new CpuBackend());
    }
}
