package ecar.sample;

import ecar.backend.Backend;
import ecar.backend.Noise;
import ecar.model.DiT;
import ecar.tensor.Tensor;

import java.util.Arrays;

/**
 * DiT's samplers: ancestral DDPM with learned variance and DDIM (η = 0), over a respaced schedule, with
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
        if (cfg <= 1f) return model.forward(x, t, y);
        Tensor out = model.forward(b.condTwice(x), t, y);
        b.cfgCombineChannels(out, mode.guidedChannels(model.config().inChannels()), cfg);
        return out;
    }

    /**
     * Runs the whole reverse process in place on x. With cfg &gt; 1, x is [2N, ...] and y holds N classes then
     * N null labels; otherwise x is [N, ...] and y the N classes. DDPM draws its noise from Philox stream
     * (seed, 1 + step index).
     */
    public void sample(Tensor x, int[] y, DiffusionSchedule schedule, Method method, float cfg, Guidance mode, long seed, Progress progress) {
        int n = schedule.steps();
        for (int done = 0; done < n; done++) {
            int i = n - 1 - done;
            try (Backend.Scope s = b.scope()) {
                float[] t = new float[y.length];
                Arrays.fill(t, schedule.modelTimestep(i));
                Tensor out = output(x, y, t, cfg, mode);
                Tensor[] post = b.diffusionPosterior(x, out, schedule.at(i));   // mean, log-variance, pred_x0
                if (method == Method.DDIM) {
                    b.ddimSample(x, post[2], schedule.at(i));
                } else {
                    b.ddpmSample(x, post[0], post[1], i > 0 ? Noise.philox(seed, 1 + done) : null);
                }
            }
            if (!b.allFinite(x)) {
                throw new ArithmeticException("DiT " + method + " step " + (done + 1) + " of " + n + " (t = " + schedule.modelTimestep(i) + ") produced NaN or Inf");
            }
            progress.update("sampling", done + 1, n);
        }
    }
}
