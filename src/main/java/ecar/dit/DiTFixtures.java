package ecar.dit;

import ecar.fixture.Comparison;
import ecar.fixture.Fixture;
import ecar.fixture.Tolerance;

import ecar.backend.Backend;
import ecar.model.Weights;
import ecar.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The dit.* fixture kinds: a forward pass, one DDPM posterior, the whole DDIM loop; guided when the config's cfg_scale
 * is above 1, with the variance of its learn_sigma and sigma_small.
 */
public final class DiTFixtures {
    private DiTFixtures() {}

    private static DiT load(Fixture f, Backend b) {
        DiTConfig cfg = DiTConfig.fromJson(f.config());
        Weights w = f.weights(b);
        DiT model = new DiT(cfg, w);
        w.finish();
        return model;
    }

    private static float cfgScale(Fixture f) {
        return (float) f.config().num("cfg_scale", 1.0);
    }

    public static List<Comparison> forward(Fixture f, Backend b) {
        DiT model = load(f, b);
        Tensor out = model.forward(f.input(b, "x"), f.input("t").data(), f.ints("y"));
        return List.of(Comparison.of("out", b.download(out), f.expected("out"), Tolerance.FORWARD));
    }

    public static List<Comparison> pMeanVariance(Fixture f, Backend b) {
        DiT model = load(f, b);
        DiffusionSchedule schedule = DiffusionSchedule.linear(Integer.toString(f.config().integer("ddpm_steps")));
        Tensor x = f.input(b, "x");
        int[] y = f.ints("y"), index = f.ints("t_index");
        float[] t = new float[index.length];
        for (int i = 0; i < t.length; i++) t[i] = schedule.modelTimestep(index[i]);
        Tensor out = new DiTSampler(model, b).output(x, y, t, cfgScale(f), Guidance.OFFICIAL_3_CHANNELS);
        // each sample has its own step: the posterior is taken sample by sample
        Tensor[] acc = null;
        for (int i = 0; i < index.length; i++) {
            Tensor[] p = b.diffusionPosterior(b.sliceBatch(x, i, i + 1), b.sliceBatch(out, i, i + 1), schedule.at(index[i]), model.config().variance());
            if (acc == null) acc = p;
            else for (int k = 0; k < 3; k++) acc[k] = b.concatBatch(acc[k], p[k]);
        }
        List<Comparison> r = new ArrayList<>();
        r.add(Comparison.of("mean", b.download(acc[0]), f.expected("mean"), Tolerance.SAMPLER));
        r.add(Comparison.of("log_variance", b.download(acc[1]), f.expected("log_variance"), Tolerance.SAMPLER));
        r.add(Comparison.of("pred_xstart", b.download(acc[2]), f.expected("pred_xstart"), Tolerance.SAMPLER));
        return r;
    }

    public static List<Comparison> ddim(Fixture f, Backend b) {
        DiT model = load(f, b);
        DiffusionSchedule schedule = DiffusionSchedule.linear(Integer.toString(f.config().integer("ddim_steps")));
        Tensor x = f.input(b, "noise");
        int[] y = f.ints("y");
        new DiTSampler(model, b).sample(x, y, new int[y.length], schedule, DiTSampler.Method.DDIM, cfgScale(f),
                Guidance.OFFICIAL_3_CHANNELS, 0, ecar.model.Progress.NONE);
        return List.of(Comparison.of("latent", b.download(x), f.expected("latent"), Tolerance.SAMPLER));
    }
}
