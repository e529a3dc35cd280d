package ecar.sample;

import ecar.backend.cpu.CpuBackend;
import ecar.model.Progress;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An image of a set is a function of (model, settings, seed, image index, label) alone: generated alone, inside a batch
 * of 8, or inside another shard layout, its pixels are the same floats (the CPU backend is batch-invariant).
 */
class PerImageDrawsTest {
    private static final int[] LABELS = {3, 7, 1, 9, 0, 4, 4, 2};
    private static final int FIRST = 40;   // the batch is images 40..47 of a set

    private final CpuBackend cpu = new CpuBackend();

    @ParameterizedTest
    @ValueSource(strings = {"dit-tiny", "flowar-tiny", "ecar-tiny"})
    void anImageIsTheSameAloneInABatchOf8AndInAnotherLayout(String model) {
        Pipeline p = Pipeline.random(Presets.get(model), 3, cpu);
        assertTrue(p.drawsPerImage(), model + " keys its draws by image");
        int[] images = new int[LABELS.length];
        for (int i = 0; i < images.length; i++) images[i] = FIRST + i;
        GenerateRequest batch = GenerateRequest.of(LABELS).images(images).seed(11);
        float[][] inBatch = perImage(p.generate(batch, Progress.NONE).pixels());

        for (int i : new int[]{0, 5}) {
            GenerateRequest alone = GenerateRequest.of(LABELS[i]).images(FIRST + i).seed(11);
            assertArrayEquals(inBatch[i], perImage(p.generate(alone, Progress.NONE).pixels())[0], model + ": image " + (FIRST + i) + " alone vs in the batch of 8");
        }
        // another shard layout: images 43..45 as a batch of their own
        GenerateRequest shard = GenerateRequest.of(Arrays.copyOfRange(LABELS, 3, 6)).images(43, 44, 45).seed(11);
        float[][] inShard = perImage(p.generate(shard, Progress.NONE).pixels());
        for (int i = 0; i < 3; i++) assertArrayEquals(inBatch[3 + i], inShard[i], model + ": image " + (43 + i) + " in a batch of 3 vs of 8");

        assertFalse(Arrays.equals(inBatch[5], inBatch[6]), model + ": images 45 and 46 have the same label but their own noise");
        GenerateRequest otherSeed = GenerateRequest.of(LABELS[0]).images(FIRST).seed(12);
        assertFalse(Arrays.equals(inBatch[0], perImage(p.generate(otherSeed, Progress.NONE).pixels())[0]), model + ": another seed, another image");
    }

    /** Pixels [N, H, W, 3] split per image. */
    private static float[][] perImage(FloatTensor pixels) {
        int n = pixels.shape().dim(0), each = pixels.data().length / n;
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(pixels.data(), i * each, (i + 1) * each);
        return out;
    }
}
