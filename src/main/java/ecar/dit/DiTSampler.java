package ecar.dit;

import ecar.model.Progress;

import ecar.backend.Backend;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.Noise;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;
import ecar.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DiT's samplers: ancestral DDPM (learned or fixed variance, as the model's config says) and DDIM (η = 0), over a
 * respaced schedule, with
 * classifier-free guidance as the reference's forward_with_cfg (the batch is [cond; null]; the model sees the
 * conditional half twice; guided channels are mixed, the rest stay per half).
 */
public final class DiTSampler {
    public enum Method { DDPM, DDIM }

    private final DiT model;
    private final Backend b;

    public DiTSampler(DiT model, Backend backend) {
        this.model = model;
        this.b = backend;
    }

    /**
     * The model's output for the state x at per-sample model timesteps t. With cfg &gt; 1, x is [2N, C, H, W] and
     * y holds N classes then N null labels: the model sees cat[x_cond, x_cond] and the guided channels are mixed.
     */
    public Tensor output(Tensor x, int[] y, float[] t, float cfg, Guidance mode) {
        if (y.length != x.shape().dim(0)) {
            throw new IllegalArgumentException("DiT: " + x.shape().dim(0) + " latents but " + y.length + " labels");
        }
        return output(x, model.labels(y), t, cfg, mode);
    }

    /** As {@link #output(Tensor, int[], float[], float, Guidance)} with the labels embedded once ({@link DiT#labels}). */
    private Tensor output(Tensor x, Tensor labels, float[] t, float cfg, Guidance mode) {
        if (cfg <= 1f) return model.forward(x, t, labels);
        Tensor out = model.forward(b.condTwice(x), t, labels);
        b.cfgCombineChannels(out, mode.guidedChannels(model.config().inChannels()), cfg);
        return out;
    }

    /**
     * Runs the whole reverse process in place on x. With cfg &gt; 1, x is [2N, ...] and y holds N classes then
     * N null labels; otherwise x is [N, ...] and y the N classes. DDPM draws its noise from Philox stream
     * (seed, 1 + step index) per image: row r of x draws image {@code rowImages[r]}'s numbers, so an image's steps do
     * not depend on its batch. Each denoising step is one {@link Backend#step}: the time, the coefficients and the noise
     * stream are its scalars; the kind of step (method, guidance, DDPM's noiseless last step) is its key. The whole
     * loop is one {@link Backend#loop}, keyed by method, guidance and the rows' images (baked into DDPM's noise
     * launches), which a GPU backend replays as one graph in later generations.
     */
    public void sample(Tensor x, int[] y, int[] rowImages, DiffusionSchedule schedule, Method method, float cfg, Guidance mode, long seed,
                       Progress progress) {
        if (rowImages.length != y.length) throw new IllegalArgumentException("DiT: " + y.length + " rows but " + rowImages.length + " image indices");
        int n = schedule.steps();
        String guided = cfg > 1f ? " guided" : "";
        try (Backend.Scope run = b.scope()) {   // the captured steps, and the labels they read, live for this run
            Tensor labels = model.labels(y);
            List<StepScalars> scalars = new ArrayList<>();
            for (int done = 0; done < n; done++) {
                int i = n - 1 - done;
                scalars.add(StepScalars.diffusion(schedule.modelTimestep(i), cfg, schedule.at(i), seed, 1 + done));
            }
            StepKey loop = new StepKey(model, method + guided + (cfg > 1f ? " " + mode : "") + " loop", 0, y.length, method == Method.DDPM ? imageList(rowImages) : null);
            int[] reported = {0};   // steps whose progress the body reported (none when the loop was replayed as a graph)
            b.loop(loop, scalars, () -> {
                float[] t = new float[y.length];
                for (int done = 0; done < n; done++) {
                    int i = n - 1 - done, stream = 1 + done;
                    float time = schedule.modelTimestep(i);
                    DiffusionCoefficients k = schedule.at(i);
                    boolean last = method == Method.DDPM && i == 0;   // no noise: different work
                    StepKey key = new StepKey(model, method + guided + (last ? " last" : ""), 0, y.length);
                    b.step(key, scalars.get(done), () -> {
                        try (Backend.Scope r = b.region("denoising step")) {
                            Arrays.fill(t, time);
                            Tensor out = output(x, labels, t, cfg, mode);
                            Tensor[] post = b.diffusionPosterior(x, out, k, model.config().variance());   // mean, log-variance, pred_x0
                            if (method == Method.DDIM) {
                                b.ddimSample(x, post[2], k);
                            } else {
                                b.ddpmSample(x, post[0], post[1], last ? null : Noise.perImage(seed, stream, rowImages));
                            }
                        }
                    });
                    b.watchFinite(x, done);
                    progress.update("sampling", ++reported[0], n);
                }
            });
            int bad = b.firstNonFinite();
            if (bad >= 0) {
                throw new ArithmeticException("DiT " + method + " step " + (bad + 1) + " of " + n + " (t = " + schedule.modelTimestep(n - 1 - bad)
                        + ") produced NaN or Inf");
            }
            if (reported[0] < n) progress.update("sampling", n, n);
        }
    }

    private static List<Integer> imageList(int[] rowImages) {
        List<Integer> out = new ArrayList<>(rowImages.length);
        for (int r : rowImages) out.add(r);
        return out;
    }
}
