package ecar.backend;

import ecar.backend.cpu.CpuBackend;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Noise drawn per image: a row's numbers depend on its image index only, and image 0 is the flat stream. */
class PerImageNoiseTest {
    private final CpuBackend cpu = new CpuBackend();

    private float[] d(Tensor t) {
        return cpu.download(t).data();
    }

    private static float[] row(float[] a, int r, int width) {
        return Arrays.copyOfRange(a, r * width, (r + 1) * width);
    }

    @Test
    void imageZeroDrawsWhatOneImageDrewFromTheFlatStream() {
        assertArrayEquals(d(cpu.randn(Shape.of(1, 4, 3, 3), 9, 2)), d(cpu.randn(Shape.of(1, 4, 3, 3), 9, 2, new int[]{0})));
    }

    @Test
    void aRowDependsOnItsImageAloneNotOnItsBatch() {
        float[] batch = d(cpu.randn(Shape.of(3, 5), 9, 2, new int[]{7, 2, 7}));
        assertArrayEquals(row(batch, 0, 5), row(batch, 2, 5), "the same image twice: the same numbers");
        assertArrayEquals(row(batch, 1, 5), d(cpu.randn(Shape.of(1, 5), 9, 2, new int[]{2})), "image 2 alone");
        assertFalse(Arrays.equals(row(batch, 0, 5), row(batch, 1, 5)), "images 7 and 2 differ");
        for (int j = 0; j < 5; j++) assertEquals(Philox.normal(9, 2, (7L << 32) + j), batch[j]);
        assertFalse(Arrays.equals(row(batch, 1, 5), d(cpu.randn(Shape.of(1, 5), 9, 3, new int[]{2}))), "another stream");
    }

    @Test
    void theStageJumpAndDdpmDrawPerImageNoiseAsRandnDoes() {
        FloatTensor x = new FloatTensor(Shape.of(2, 4, 3), new float[24]);
        for (int i = 0; i < 24; i++) x.data()[i] = (i % 7) * 0.25f - 0.5f;
        int[] images = {11, 4};
        Tensor eps = cpu.randn(Shape.of(2, 16, 3), 5, 1, images);
        assertArrayEquals(d(cpu.stageJump(x, 2, 0.7f, 0.4f, 0.3f, Noise.of(eps))), d(cpu.stageJump(x, 2, 0.7f, 0.4f, 0.3f, Noise.perImage(5, 1, images))));

        Tensor mean = cpu.upload(x), logVar = cpu.upload(x);
        Tensor a = cpu.upload(x), b = cpu.upload(x);
        cpu.ddpmSample(a, mean, logVar, Noise.of(cpu.randn(x.shape(), 5, 1, images)));
        cpu.ddpmSample(b, mean, logVar, Noise.perImage(5, 1, images));
        assertArrayEquals(d(a), d(b));
    }

    @Test
    void rowsSplitIntoRunsOfConsecutiveImages() {
        List<int[]> runs = new Noise.PerImage(1, 0, new int[]{40, 41, 7, 8, 9, 9}).runs();
        assertEquals(3, runs.size());
        assertArrayEquals(new int[]{0, 2, 40}, runs.get(0));
        assertArrayEquals(new int[]{2, 3, 7}, runs.get(1));
        assertArrayEquals(new int[]{5, 1, 9}, runs.get(2));
    }

    @Test
    void badImageRowsSayWhatIsWrong() {
        var e = assertThrows(IllegalArgumentException.class, () -> cpu.randn(Shape.of(3, 5), 1, 0, new int[]{0, 1}));
        assertTrue(e.getMessage().contains("per-image noise for 2 images, expected one per row of [3, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Noise.perImage(1, 0, new int[]{3, -1}));
        assertTrue(e.getMessage().contains("image index -1 is negative"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cpu.stageJump(cpu.zeros(Shape.of(2, 4, 3)), 2, 1f, 1f, 0.3f, Noise.perImage(1, 0, new int[]{0})));
        assertTrue(e.getMessage().contains("stageJump"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Philox.imageIndex(0, 1L << 32));
        assertTrue(e.getMessage().contains("outside [0, 2^32)"), e.getMessage());
    }
}
