package ecar.arpg;

import ecar.backend.Backend;
import ecar.family.Generator;
import ecar.family.Sampling;
import ecar.model.Progress;
import ecar.tensor.Tensor;
import ecar.vae.IndexMap;

/** ARPG as a generator: token ids in a random order from the seed, handed to the VQ decoder as an index map. */
final class ArpgGenerator implements Generator {
    private final ArpgSampler sampler;
    private final ArpgConfig config;
    private final Backend b;

    ArpgGenerator(ArpgTransformer model, Backend backend) {
        this.sampler = new ArpgSampler(model, backend);
        this.config = model.config();
        this.b = backend;
    }

    /** Index maps [N, 1, grid, grid] of exact integer token ids (raster order). */
    @Override
    public Tensor sample(int[] labels, Sampling sampling, long seed, Progress progress) {
        int[][] tokens = sampler.sample(labels, (ArpgSampling) sampling, seed, null, new ArpgSampler.Observer() {
            @Override
            public void progress(int done, int total) {
                progress.update("sampling", done, total);
            }
        });
        int t = config.tokens();
        int[] ids = new int[labels.length * t];
        for (int i = 0; i < labels.length; i++) System.arraycopy(tokens[i], 0, ids, i * t, t);
        return b.upload(IndexMap.of(ids, labels.length, config.grid()));
    }
}
