package ecar.sample;

import ecar.dit.DiTSampler;
import ecar.dit.Guidance;

import java.util.Arrays;
import java.util.Locale;

/**
 * How to sample: the settings of every family in one value; each family reads its own. Validated on creation,
 * with the value and the limit named.
 *
 * @param steps        DiT: respaced steps; FlowAR: Euler grid size K per scale; ECAR: steps per stage (all stages)
 * @param stepsPerStage ECAR only: explicit steps of each stage, or null to use {@code steps} everywhere
 * @param cfg          classifier-free guidance weight (1 turns it off); FlowAR/ECAR ramp it from 1 over the stages
 * @param guidanceHigh FlowAR/ECAR: guidance applies while t ≤ this
 * @param gamma        ECAR: block-noise correlation in (0, 1/3]
 * @param ditMethod    DiT: DDPM (ancestral, learned variance) or DDIM (η = 0)
 * @param ditGuidance  DiT: guide the official 3 channels or all channels
 */
public record Sampling(int steps, int[] stepsPerStage, float cfg, float guidanceHigh, double gamma,
                       DiTSampler.Method ditMethod, Guidance ditGuidance) {

    public Sampling {
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        if (stepsPerStage != null) {
            stepsPerStage = stepsPerStage.clone();
            for (int k : stepsPerStage) if (k <= 0) throw new IllegalArgumentException("steps per stage must be positive, got " + Arrays.toString(stepsPerStage));
        }
        if (!(cfg >= 1f)) throw new IllegalArgumentException("cfg " + cfg + " must be at least 1 (1 turns guidance off)");
        if (!(guidanceHigh >= 0f && guidanceHigh <= 1f)) throw new IllegalArgumentException("guidance interval end " + guidanceHigh + " must lie in [0, 1]");
        if (!(gamma > 0 && gamma <= 1.0 / 3 + 1e-12)) throw new IllegalArgumentException("gamma " + gamma + " must lie in (0, 1/3]");
    }

    public static Sampling defaults(Family f) {
        return switch (f) {
            case DIT -> new Sampling(250, null, 1.5f, 1f, 1.0 / 3, DiTSampler.Method.DDPM, Guidance.OFFICIAL_3_CHANNELS);
            case FLOWAR -> new Sampling(25, null, 2.4f, 0.9f, 1.0 / 3, DiTSampler.Method.DDPM, Guidance.OFFICIAL_3_CHANNELS);
            case ECAR -> new Sampling(5, null, 2.4f, 0.9f, 1.0 / 3, DiTSampler.Method.DDPM, Guidance.OFFICIAL_3_CHANNELS);
        };
    }

    public Sampling withSteps(int s) {
        return new Sampling(s, null, cfg, guidanceHigh, gamma, ditMethod, ditGuidance);
    }

    public Sampling withStepsPerStage(int[] perStage) {
        return new Sampling(perStage.length == 0 ? steps : perStage[0], perStage, cfg, guidanceHigh, gamma, ditMethod, ditGuidance);
    }

    public Sampling withCfg(float c) {
        return new Sampling(steps, stepsPerStage, c, guidanceHigh, gamma, ditMethod, ditGuidance);
    }

    public Sampling withGuidanceHigh(float g) {
        return new Sampling(steps, stepsPerStage, cfg, g, gamma, ditMethod, ditGuidance);
    }

    public Sampling withGamma(double g) {
        return new Sampling(steps, stepsPerStage, cfg, guidanceHigh, g, ditMethod, ditGuidance);
    }

    public Sampling withDiTMethod(DiTSampler.Method m) {
        return new Sampling(steps, stepsPerStage, cfg, guidanceHigh, gamma, m, ditGuidance);
    }

    public Sampling withDiTGuidance(Guidance g) {
        return new Sampling(steps, stepsPerStage, cfg, guidanceHigh, gamma, ditMethod, g);
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

    /** The DiT respacing spec for the chosen method: "250" (DDPM) or "ddim50"-style counts as the reference's. */
    public String ditRespacing() {
        return Integer.toString(steps);
    }

    /** The settings a family uses, in words. */
    public String describe(Family f, int stages) {
        return switch (f) {
            case DIT -> String.format(Locale.ROOT, "%s %d steps, cfg %.2f (%s)", ditMethod, steps, cfg,
                    ditGuidance == Guidance.OFFICIAL_3_CHANNELS ? "official 3-channel guidance" : "all-channel guidance");
            case FLOWAR -> String.format(Locale.ROOT, "FlowAR Euler K=%d per scale, cfg %.2f ramped, guidance t<=%.2f", steps, cfg, guidanceHigh);
            case ECAR -> String.format(Locale.ROOT, "ECAR %s steps per stage, gamma %.4f, cfg %.2f ramped, guidance t<=%.2f",
                    Arrays.toString(ecarSteps(stages)), gamma, cfg, guidanceHigh);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sampling s && s.steps == steps && Arrays.equals(s.stepsPerStage, stepsPerStage) && s.cfg == cfg
                && s.guidanceHigh == guidanceHigh && s.gamma == gamma && s.ditMethod == ditMethod && s.ditGuidance == ditGuidance;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(stepsPerStage) * 31 + steps;
    }
}
