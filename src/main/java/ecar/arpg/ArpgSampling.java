package ecar.arpg;

import ecar.backend.LogitFilter;
import ecar.family.Sampling;
import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * ARPG's sampling settings, the arguments of the reference's {@code generate}.
 *
 * @param steps       decoding steps (num_iter)
 * @param cfg         guidance scale s (guidance_scale); both batch halves always run, as the reference does
 * @param guidance    cfg_schedule: linear (1 → s as tokens are done) or constant
 * @param reveal      sample_schedule: arccos or cosine
 * @param temperature divides the guided logits (at least 1e-5 is used)
 * @param filter      top-k and top-p
 */
public record ArpgSampling(int steps, float cfg, DecodeSchedule.Guidance guidance, DecodeSchedule.Reveal reveal, float temperature, LogitFilter filter)
        implements Sampling {
    private static final Set<SamplingOption> TAKES = EnumSet.of(SamplingOption.STEPS, SamplingOption.CFG, SamplingOption.CFG_SCHEDULE,
            SamplingOption.ORDER_SCHEDULE, SamplingOption.TEMPERATURE, SamplingOption.TOP_K, SamplingOption.TOP_P);

    public ArpgSampling {
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        if (!(cfg >= 1f) || Float.isInfinite(cfg)) throw new IllegalArgumentException("cfg " + cfg + " must be finite and at least 1 (1 turns guidance off)");
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature " + temperature + " must be finite and not negative");
        if (guidance == null || reveal == null || filter == null) throw new IllegalArgumentException("guidance, order schedule and filter are required");
    }

    /**
     * The official reproduction settings (GETTING_STARTED.md's sample_c2i_ddp.py commands: arccos, 64 steps, cfg 5.0 for
     * ARPG-L, 6.0 for XL, 7.5 for XXL) with every other argument at that script's defaults: linear cfg schedule,
     * temperature 1, top-k 0 and top-p 1 (no filtering).
     */
    public static ArpgSampling defaults(float cfg) {
        return new ArpgSampling(64, cfg, DecodeSchedule.Guidance.LINEAR, DecodeSchedule.Reveal.ARCCOS, 1f, LogitFilter.NONE);
    }

    public ArpgSampling withSteps(int s) {
        return new ArpgSampling(s, cfg, guidance, reveal, temperature, filter);
    }

    public ArpgSampling withCfg(float c) {
        return new ArpgSampling(steps, c, guidance, reveal, temperature, filter);
    }

    public ArpgSampling withFilter(LogitFilter f) {
        return new ArpgSampling(steps, cfg, guidance, reveal, temperature, f);
    }

    @Override
    public ArpgSampling with(SamplingOverrides o) {
        ArpgSampling s = this;
        for (var e : o.asMap().entrySet()) {
            Object v = e.getValue();
            s = switch (e.getKey()) {
                case STEPS -> s.withSteps((Integer) v);
                case CFG -> s.withCfg((Float) v);
                case CFG_SCHEDULE -> new ArpgSampling(s.steps, s.cfg, DecodeSchedule.Guidance.parse((String) v), s.reveal, s.temperature, s.filter);
                case ORDER_SCHEDULE -> new ArpgSampling(s.steps, s.cfg, s.guidance, DecodeSchedule.Reveal.parse((String) v), s.temperature, s.filter);
                case TEMPERATURE -> new ArpgSampling(s.steps, s.cfg, s.guidance, s.reveal, (Float) v, s.filter);
                case TOP_K -> s.withFilter(new LogitFilter((Integer) v, s.filter.topP()));
                case TOP_P -> s.withFilter(new LogitFilter(s.filter.topK(), (Float) v));
                default -> throw e.getKey().notFor("ARPG", TAKES);
            };
        }
        return s;
    }

    /** The schedule over a grid of {@code tokens} (throws when a step would predict nothing). */
    public DecodeSchedule schedule(int tokens) {
        return DecodeSchedule.of(tokens, steps, reveal, guidance, cfg);
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "%d steps (%s), cfg %.2f %s, temperature %.2f, top-k %s, top-p %s", steps, reveal.name().toLowerCase(Locale.ROOT),
                cfg, guidance.name().toLowerCase(Locale.ROOT), temperature, filter.topK() == 0 ? "off" : Integer.toString(filter.topK()),
                filter.topP() >= 1f ? "off" : String.format(Locale.ROOT, "%.2f", filter.topP()));
    }
}
