package ecar.dit;

import ecar.backend.Backend;
import ecar.family.PerImageGenerator;
import ecar.family.ImageRows;
import ecar.family.Sampling;
import ecar.model.Progress;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.Arrays;

/** DiT as a generator: noise from the seed per image, the respaced reverse process, the conditional half of the batch. */
final class DiTGenerator implements PerImageGenerator {
    private final DiT model;
    private final Backend b;

    DiTGenerator(DiT model, Backend backend) {
        this.model = model;
        this.b = backend;
    }


    /**
     * SD-VAE latents [N, 4, h, w] before the 1/0.18215 scaling. With cfg &gt; 1 the model runs on [cond; null]. Every draw
     * is per image: the start noise (stream 0) and each DDPM step's (stream 1 + step) come from image images[i]'s Philox
     * numbers; the null half draws its conditional row's, which never reach the result (the model sees the conditional
     * half twice).
     */
    @Override
    public Tensor sample(int[] labels, int[] images, Sampling sampling, long seed, Progress progress) {
        ImageRows.check(labels, images);
        DiTSampling s = (DiTSampling) sampling;
        DiTConfig c = model.config();
        for (int l : labels) {
            if (l < 0 || l >= c.numClasses()) throw new IllegalArgumentException("class label " + l + " outside [0, " + (c.numClasses() - 1) + "]");
        }
        int n = labels.length, side = c.inputSize();
        boolean guided = s.cfg() > 1f;
        Tensor z = b.randn(Shape.of(n, c.inChannels(), side, side), seed, 0, images);
        Tensor x = guided ? b.concatBatch(z, z) : z;
        int[] y = guided ? Arrays.copyOf(labels, 2 * n) : labels.clone();
        if (guided) Arrays.fill(y, n, 2 * n, c.nullClass());
        int[] rows = guided ? ImageRows.twice(images) : images.clone();
        new DiTSampler(model, b).sample(x, y, rows, DiffusionSchedule.linear(Integer.toString(s.steps())), s.method(), s.cfg(), s.guidance(), seed, progress);
        return guided ? b.sliceBatch(x, 0, n) : x;
    }
}
