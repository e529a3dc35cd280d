package ecar.flowar;

import ecar.family.Sampling;
import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Sampling settings of the FlowAR modules under one of the two schedules (MODELS.md §3).
 *
 * @param kind          FLOWAR (every scale denoised in full) or ECAR (the flow split across the stages)
 * @param steps         FLOWAR: the Euler grid size K per scale; ECAR: steps of every stage
 * @param stepsPerStage ECAR only: explicit steps of each stage, or null for {@code steps} everywhere
 * @param cfg           guidance weight at the last stage (ramped from 1 at the first); 1 turns it off
 * @param guidanceHigh  guidance applies while t ≤ this
 * @param gamma         ECAR: block-noise correlation in (0, 1/3]
 */
public record FlowArSampling(TokenSchedule.Kind kind, int steps, int[] stepsPerStage, float cfg, float guidanceHigh, double gamma) implements Sampling {
    private static final Set<SamplingOption> FLOWAR = EnumSet.of(SamplingOption.STEPS, SamplingOption.CFG, SamplingOption.GUIDANCE_HIGH);
    private static final Set<SamplingOption> ECAR = EnumSet.of(SamplingOption.STEPS, SamplingOption.STAGE_STEPS, SamplingOption.CFG,
            SamplingOption.GUIDANCE_HIGH, SamplingOption.GAMMA);

    /**
     * Steps of one scale or stage at most: forty times FlowAR's official 25, so a typo (100000000) is refused rather than
     * left to sample for days.
     */
    public static final int MAX_STEPS = 1000;

    public FlowArSampling {
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        if (steps > MAX_STEPS) throw new IllegalArgumentException("steps " + steps + " exceeds the limit of " + MAX_STEPS + " per scale or stage");
        if (stepsPerStage != null) {
            stepsPerStage = stepsPerStage.clone();
            for (int k : stepsPerStage) {
                if (k <= 0 || k > MAX_STEPS) {
                    throw new IllegalArgumentException("steps per stage must lie in [1, " + MAX_STEPS + "], got " + Arrays.toString(stepsPerStage));
                }
            }
        }
        if (!(cfg >= 1f && cfg < Float.POSITIVE_INFINITY)) throw new IllegalArgumentException("cfg " + cfg + " must be a finite number of at least 1 (1 turns guidance off)");
        if (!(guidanceHigh >= 0f && guidanceHigh <= 1f)) throw new IllegalArgumentException("guidance interval end " + guidanceHigh + " must lie in [0, 1]");
        if (!(gamma > 0 && gamma <= 1.0 / 3 + 1e-12)) throw new IllegalArgumentException("gamma " + gamma + " must lie in (0, 1/3]");
    }

    /** FlowAR's official sampler: K = 25 (24 Euler steps per scale), cfg 2.4, guidance while t ≤ 0.9. */
    public static FlowArSampling flowArDefaults() {
        return new FlowArSampling(TokenSchedule.Kind.FLOWAR, 25, null, 2.4f, 0.9f, 1.0 / 3);
    }

    /** ECAR: 5 steps per stage, γ = 1/3, cfg 2.4, guidance while t ≤ 0.9. */
    public static FlowArSampling ecarDefaults() {
        return new FlowArSampling(TokenSchedule.Kind.ECAR, 5, null, 2.4f, 0.9f, 1.0 / 3);
    }

    public FlowArSampling withSteps(int s) {
        return new FlowArSampling(kind, s, null, cfg, guidanceHigh, gamma);
    }

    public FlowArSampling withCfg(float c) {
        return new FlowArSampling(kind, steps, stepsPerStage, c, guidanceHigh, gamma);
    }

    @Override
    public FlowArSampling with(SamplingOverrides o) {
        FlowArSampling s = this;
        Set<SamplingOption> takes = kind == TokenSchedule.Kind.ECAR ? ECAR : FLOWAR;
        for (var e : o.asMap().entrySet()) {
            if (!takes.contains(e.getKey())) throw e.getKey().notFor(kind == TokenSchedule.Kind.ECAR ? "ECAR" : "FlowAR", takes);
            Object v = e.getValue();
            s = switch (e.getKey()) {
                case STEPS -> s.withSteps((Integer) v);
                case STAGE_STEPS -> {
                    int[] k = (int[]) v;
                    yield new FlowArSampling(kind, k.length == 0 ? s.steps : k[0], k, s.cfg, s.guidanceHigh, s.gamma);
                }
                case CFG -> s.withCfg((Float) v);
                case GUIDANCE_HIGH -> new FlowArSampling(kind, s.steps, s.stepsPerStage, s.cfg, (Float) v, s.gamma);
                case GAMMA -> new FlowArSampling(kind, s.steps, s.stepsPerStage, s.cfg, s.guidanceHigh, (Double) v);
                default -> throw e.getKey().notFor(kind.name(), takes);
            };
        }
        return s;
    }

    /** ECAR's steps of each of the given number of stages. */
    public int[] ecarSteps(int stages) {
        if (stepsPerStage == null) {
            int[] r = new int[stages];
            Arrays.fill(r, steps);
            return r;
        }
        if (stepsPerStage.length != stages) {
            throw new IllegalArgumentException(stepsPerStage.length + " per-stage step counts for a model of " + stages + " stages");
        }
        return stepsPerStage.clone();
    }

    /** The schedule these settings give over the architecture's stages (throws naming what does not fit). */
    public TokenSchedule schedule(FlowArConfig c) {
        int[] sides = c.scales();
        return kind == TokenSchedule.Kind.ECAR
                ? TokenSchedule.ecar(sides, ecarSteps(sides.length), gamma, cfg, guidanceHigh)
                : TokenSchedule.flowAr(sides, steps, cfg, guidanceHigh);
    }

    @Override
    public String describe() {
        return kind == TokenSchedule.Kind.ECAR
                ? String.format(Locale.ROOT, "ECAR %s steps per stage, gamma %.4f, cfg %.2f ramped, guidance t<=%.2f",
                        stepsPerStage == null ? steps + "" : Arrays.toString(stepsPerStage), gamma, cfg, guidanceHigh)
                : String.format(Locale.ROOT, "FlowAR Euler K=%d per scale, cfg %.2f ramped, guidance t<=%.2f", steps, cfg, guidanceHigh);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowArSampling s && s.kind == kind && s.steps == steps && Arrays.equals(s.stepsPerStage, stepsPerStage) && s.cfg == cfg
                && s.guidanceHigh == guidanceHigh && s.gamma == gamma;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(stepsPerStage) * 31 + steps;
    }

    @Override
    public String toString() {
        return describe();
    }
}
