package ecar.flops;

import ecar.dit.DiTConfig;
import ecar.flowar.FlowArConfig;
import ecar.model.TimestepEmbedder;
import ecar.sample.Family;
import ecar.sample.Preset;
import ecar.sample.Sampling;
import ecar.flowar.StagePlan;
import ecar.flowar.TokenSchedule;
import ecar.vae.VaeConfig;

import java.util.Locale;

/**
 * Analytic multiply-accumulate counts of what the runtime executes: every matrix product and attention
 * (QKᵀ and PV) of the models in ecar.model, at batch 1, times the passes a sampler makes per image
 * (classifier-free guidance doubles the batch).
 */
public final class Flops {
    private Flops() {}

    /** DiT forward at batch 1, by component. */
    static void ditForward(DiTConfig c, FlopsReport r) {
        double t = c.tokens(), d = c.hiddenSize(), p = c.patchSize(), depth = c.depth();
        r.forward("patch embed", t + " tokens", t * c.inChannels() * p * p * d);
        r.forward("timestep + label embedding", "", TimestepEmbedder.FREQUENCY_DIM * d + d * d);
        r.forward("adaLN modulation", depth + " blocks + final", depth * d * 6 * d + d * 2 * d);
        r.forward("attention projections (qkv, proj)", "", depth * t * d * 4 * d);
        r.forward("attention (QKᵀ, PV)", c.numHeads() + " heads × " + c.headDim(), depth * 2 * t * t * d);
        r.forward("MLP", "hidden " + c.mlpHidden(), depth * 2 * t * d * c.mlpHidden());
        r.forward("final linear", "", t * d * p * p * c.outChannels());
    }

    public static FlopsReport dit(Preset preset, Sampling s) {
        DiTConfig c = preset.dit();
        String name = String.format(Locale.ROOT, "%s: DiT depth %d, width %d, patch %d, %d² image (%d tokens); %s", preset.name(),
                c.depth(), c.hiddenSize(), c.patchSize(), preset.imageSize(), c.tokens(), s.describe(Family.DIT, 0));
        FlopsReport r = new FlopsReport(name);
        ditForward(c, r);
        int passes = s.cfg() > 1f ? 2 : 1;
        r.pipeline("DiT forward", s.steps() + " steps × " + passes + (passes == 2 ? " passes (cond, null)" : " pass"),
                (double) s.steps() * passes, r.forwardMacs());
        return r;
    }

    /** The AR transformer at stage s with n tokens and a cache of len tokens: block work per encoder and decoder. */
    static double arStage(FlowArConfig c, int s) {
        double n = c.tokens(s), len = c.start(s) + c.tokens(s), d = c.dim(), h = FlowArConfig.mlpHidden(c.dim());
        double block = n * d * 3 * d + 2 * n * len * d + n * d * d + 3 * n * d * h;
        double extra = (s > 0 ? n * c.tokenDim() * d : 0) + n * d * d;   // z_proj of the resized tokens, decoder_embed
        return (c.encDepth() + c.decDepth()) * block + extra;
    }

    /** The flow head's per-stage preparation: cond_embed and, for v2, the cross-attention keys and values. */
    static double headPrepare(FlowArConfig c, int s) {
        double n = c.tokens(s), w = c.headWidth();
        return n * c.dim() * w + (c.cross() ? c.headDepth() * n * c.dim() * 2 * w : 0);
    }

    /** One flow-head evaluation at stage s. */
    static double headStep(FlowArConfig c, int s) {
        double n = c.tokens(s), w = c.headWidth(), hh = FlowArConfig.mlpHidden(c.headWidth());
        double self = n * w * 3 * w + 2 * n * n * w + n * w * w;
        double mlp = 3 * n * w * hh;
        double block = c.cross()
                ? w * 3 * w + self + n * w * w + 2 * n * n * w + n * w * w + n * w * 3 * w + mlp
                : n * w * 6 * w + self + mlp;
        return TimestepEmbedder.FREQUENCY_DIM * w + w * w + n * c.tokenDim() * w + c.headDepth() * block + n * w * 2 * w + n * w * c.tokenDim();
    }

    public static FlopsReport tokens(Preset preset, Sampling s) {
        FlowArConfig c = preset.flowAr();
        TokenSchedule schedule = preset.tokenSchedule(s);
        String name = String.format(Locale.ROOT, "%s: AR %d+%d blocks × %d, head %d×%d %s, %d² image, scales %s; %s", preset.name(),
                c.encDepth(), c.decDepth(), c.dim(), c.headDepth(), c.headWidth(), c.cross() ? "v2" : "v1", preset.imageSize(),
                java.util.Arrays.toString(c.scales()), s.describe(preset.family(), c.stages()));
        FlopsReport r = new FlopsReport(name);
        int passes = s.cfg() > 1f ? 2 : 1;
        String batch = passes == 2 ? " × 2 (cond, null)" : "";
        double d = c.dim();
        r.pipeline("AR adaLN (once)", (c.encDepth() + c.decDepth()) + " blocks" + batch, passes, (c.encDepth() + c.decDepth()) * d * 6 * d);
        for (int st = 0; st < c.stages(); st++) {
            StagePlan p = schedule.stage(st);
            String where = String.format(Locale.ROOT, "stage %d (%d×%d)", st, c.side(st), c.side(st));
            r.pipeline("AR pass, " + where, c.tokens(st) + " tokens, cache " + (c.start(st) + c.tokens(st)) + batch, passes, arStage(c, st));
            r.pipeline("head prepare, " + where, "cond_embed" + (c.cross() ? " + cross K/V" : "") + batch, passes, headPrepare(c, st));
            r.pipeline("head steps, " + where, p.steps() + " steps" + batch, (double) p.steps() * passes, headStep(c, st));
        }
        return r;
    }

    public static FlopsReport of(Preset p, Sampling s) {
        FlopsReport r = p.family() == Family.DIT ? dit(p, s) : tokens(p, s);
        int side = p.imageSize() / p.vae().factor();
        r.decode(p.vae().name() + ", " + side + "² latent to " + p.imageSize() + "²", vaeDecode(p.vae(), side, side));
        return r;
    }

    /**
     * The VAE decoder (ecar.vae.VaeDecoder) on one latent of h×w: every 3×3 and 1×1 convolution and the
     * attention's products (QKᵀ and PV over all positions).
     */
    public static double vaeDecode(VaeConfig c, int h, int w) {
        int[] mult = c.chMult();
        int top = mult.length - 1, in = c.ch() * mult[top];
        double px = (double) h * w, macs = px * c.embedDim() * c.zChannels() + px * c.zChannels() * in * 9;
        macs += 2 * resnet(px, in, in) + attention(px, in);
        int side = c.resolution() >> top;
        for (int i = top; i >= 0; i--) {
            int out = c.ch() * mult[i];
            for (int j = 0; j <= c.numResBlocks(); j++) {
                macs += resnet(px, in, out);
                in = out;
                if (c.attentionAt(side)) macs += attention(px, in);
            }
            if (i > 0) {
                px *= 4;
                macs += px * in * in * 9;   // the upsample's conv at the finer resolution
            }
            side *= 2;
        }
        return macs + px * in * 3 * 9;
    }

    private static double resnet(double px, int in, int out) {
        return px * in * out * 9 + px * out * out * 9 + (in == out ? 0 : px * in * out);
    }

    private static double attention(double px, int c) {
        return 4 * px * c * c + 2 * px * px * c;
    }

    public static FlopsReport of(Preset p) {
        return of(p, p.sampling());
    }
}
