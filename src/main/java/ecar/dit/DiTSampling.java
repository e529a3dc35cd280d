package ecar.dit;

import ecar.family.Sampling;
import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * DiT's sampling settings.
 *
 * @param steps    respaced steps ("250" as the reference's evaluation)
 * @param cfg      classifier-free guidance weight (1 turns it off)
 * @param method   ancestral DDPM with learned variance, or DDIM (η = 0)
 * @param guidance which channels guidance mixes: the official first three, or all
 */
public record DiTSampling(int steps, float cfg, DiTSampler.Method method, Guidance guidance) implements Sampling {
    private static final Set<SamplingOption> TAKES = EnumSet.of(SamplingOption.STEPS, SamplingOption.CFG, SamplingOption.SAMPLER,
            SamplingOption.GUIDE_ALL_CHANNELS);

    public DiTSampling {
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        if (steps > 1000) throw new IllegalArgumentException("steps " + steps + " is more than DiT's 1000 training steps");
        if (!(cfg >= 1f && cfg < Float.POSITIVE_INFINITY)) throw new IllegalArgumentException("cfg " + cfg + " must be a finite number of at least 1 (1 turns guidance off)");
    }

    /** The official evaluation setting: DDPM, 250 steps, cfg 1.5 on the first three channels. */
    public static DiTSampling defaults() {
        return new DiTSampling(250, 1.5f, DiTSampler.Method.DDPM, Guidance.OFFICIAL_3_CHANNELS);
    }

    public DiTSampling withSteps(int s) {
        return new DiTSampling(s, cfg, method, guidance);
    }

    public DiTSampling withCfg(float c) {
        return new DiTSampling(steps, c, method, guidance);
    }

    public DiTSampling withMethod(DiTSampler.Method m) {
        return new DiTSampling(steps, cfg, m, guidance);
    }

    @Override
    public DiTSampling with(SamplingOverrides o) {
        DiTSampling s = this;
        for (var e : o.asMap().entrySet()) {
            s = switch (e.getKey()) {
                case STEPS -> s.withSteps((Integer) e.getValue());
                case CFG -> s.withCfg((Float) e.getValue());
                case SAMPLER -> s.withMethod(method((String) e.getValue()));
                case GUIDE_ALL_CHANNELS -> new DiTSampling(s.steps, s.cfg, s.method, (Boolean) e.getValue() ? Guidance.ALL_CHANNELS : Guidance.OFFICIAL_3_CHANNELS);
                default -> throw e.getKey().notFor("DiT", TAKES);
            };
        }
        return s;
    }

    private static DiTSampler.Method method(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "ddpm" -> DiTSampler.Method.DDPM;
            case "ddim" -> DiTSampler.Method.DDIM;
            default -> throw new IllegalArgumentException("--sampler " + name + ": expected ddpm or ddim");
        };
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "%s %d steps, cfg %.2f (%s)", method, steps, cfg,
                guidance == Guidance.OFFICIAL_3_CHANNELS ? "official 3-channel guidance" : "all-channel guidance");
    }
}
