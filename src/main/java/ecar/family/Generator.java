package ecar.family;

import ecar.model.Progress;
import ecar.tensor.Tensor;

/** A loaded model of some family, ready to sample on the backend it was loaded on. */
public interface Generator {

    /**
     * Latents [N, C, h, w] for the labels (one image each), a function of the seed and the settings alone, queued in the
     * caller's scope. Reports "sampling" progress. The images are images 0..N-1 of {@link #sample(int[], int[], Sampling, long, Progress)}.
     */
    Tensor sample(int[] labels, Sampling sampling, long seed, Progress progress);

    /**
     * Latents for the labels as images {@code images[i]} of a larger set (an evaluation set of 50,000 images, say), in
     * the labels' order. A family whose random draws are keyed by image ({@link #drawsPerImage()}) makes each image a
     * function of (model, settings, seed, image index, label) alone, whatever batch, shard or machine it is generated
     * in. The default serves families that draw for the whole batch (ARPG's shared random order): the batch runs under
     * {@link BatchSeed#of(long, int[])}, so a set is reproducible for the same batches, but an image changes with
     * the batch it is in; images 0..N-1 run under the seed itself, as {@link #sample(int[], Sampling, long, Progress)}.
     */
    default Tensor sample(int[] labels, int[] images, Sampling sampling, long seed, Progress progress) {
        ImageRows.check(labels, images);
        return sample(labels, sampling, BatchSeed.of(seed, images), progress);
    }

    /** True when each image's draws are keyed by its index (per-image Philox streams), so batches do not change images. */
    default boolean drawsPerImage() {
        return false;
    }
}
