package ecar.family;

import ecar.model.Progress;
import ecar.tensor.Tensor;

/**
 * A generator whose random draws are all keyed by image (per-image Philox streams): a batch of labels is images
 * 0..N-1, and any image comes out the same in any batch, shard or machine.
 */
public interface PerImageGenerator extends Generator {

    @Override
    Tensor sample(int[] labels, int[] images, Sampling sampling, long seed, Progress progress);

    /** Images 0..N-1. */
    @Override
    default Tensor sample(int[] labels, Sampling sampling, long seed, Progress progress) {
        return sample(labels, ImageRows.first(labels.length), sampling, seed, progress);
    }

    @Override
    default boolean drawsPerImage() {
        return true;
    }
}
