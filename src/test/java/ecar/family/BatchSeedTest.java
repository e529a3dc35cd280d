package ecar.family;

import ecar.model.Progress;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A family that draws per batch (ARPG's shared order) runs each batch of a set under a seed of its own. */
class BatchSeedTest {
    /** A generator that only knows whole batches, recording the seeds it is asked for. */
    private static final class BatchDrawn implements Generator {
        final List<Long> seeds = new ArrayList<>();

        @Override
        public Tensor sample(int[] labels, Sampling sampling, long seed, Progress progress) {
            seeds.add(seed);
            return null;
        }
    }

    @Test
    void imagesFromZeroKeepTheSeedAndOtherBatchesGetTheirOwn() {
        BatchDrawn g = new BatchDrawn();
        assertFalse(g.drawsPerImage());
        g.sample(new int[]{1, 2}, new int[]{0, 1}, null, 7, Progress.NONE);
        g.sample(new int[]{1, 2}, new int[]{40, 41}, null, 7, Progress.NONE);
        g.sample(new int[]{1, 2}, new int[]{40, 41}, null, 7, Progress.NONE);
        g.sample(new int[]{1, 2}, new int[]{42, 43}, null, 7, Progress.NONE);
        g.sample(new int[]{1, 2}, new int[]{40, 41}, null, 8, Progress.NONE);
        assertEquals(7L, g.seeds.get(0), "a plain generation runs under the seed itself");
        assertEquals(g.seeds.get(1), g.seeds.get(2), "the same batch, the same seed on any machine");
        assertNotEquals(g.seeds.get(1), g.seeds.get(3), "another batch of the set");
        assertNotEquals(g.seeds.get(1), g.seeds.get(4), "another set's seed");
        assertNotEquals(7L, g.seeds.get(1));
    }

    @Test
    void oneIndexPerLabelIsRequired() {
        var e = assertThrows(IllegalArgumentException.class, () -> new BatchDrawn().sample(new int[]{1, 2}, new int[]{5}, null, 7, Progress.NONE));
        assertTrue(e.getMessage().contains("2 labels but 1 image indices"), e.getMessage());
    }
}
