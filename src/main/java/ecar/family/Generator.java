package ecar.family;

import ecar.model.Progress;
import ecar.tensor.Tensor;

/** A loaded model of some family, ready to sample on the backend it was loaded on. */
public interface Generator {

    /**
     * Latents [N, C, h, w] for the labels (one image each), a function of the seed and the settings alone, queued in the
     * caller's scope. Reports "sampling" progress.
     */
    Tensor sample(int[] labels, Sampling sampling, long seed, Progress progress);
}
