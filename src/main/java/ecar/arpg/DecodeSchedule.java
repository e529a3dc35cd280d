package ecar.arpg;

import java.util.Arrays;
import java.util.Locale;

/**
 * How many tokens each step of ARPG's {@code generate} predicts and the guidance weight it uses, computed once from
 * the reference's arithmetic (float64, as numpy): step k of n leaves mask_len = clamp(⌊T·ratio(k)⌋, 1, T − done − 1)
 * tokens masked, ratio arccos((k+1)/n)/(π/2) or cos(π/2·(k+1)/n), and predicts the rest up to that; the last step
 * predicts whatever remains. Guidance w_k = 1 + (s − 1)·done_k/T (linear, done counted after step k) or s (constant).
 *
 * @param tokens the token count T
 * @param counts tokens predicted at each step (all positive, summing to T)
 * @param cfg    the guidance weight of each step, as the reference casts it for its float32 logits
 */
public record DecodeSchedule(int tokens, int[] counts, float[] cfg) {

    /** The reference's {@code sample_schedule}: how fast the masked share falls. */
    public enum Reveal {
        ARCCOS, COSINE;

        double maskRatio(int step, int steps) {
            return this == ARCCOS ? Math.acos(1.0 * (step + 1) / steps) / (Math.PI * 0.5) : Math.cos(Math.PI / 2.0 * (step + 1) / steps);
        }

        static Reveal parse(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "arccos" -> ARCCOS;
                case "cosine" -> COSINE;
                default -> throw new IllegalArgumentException("order schedule '" + name + "': expected arccos or cosine");
            };
        }
    }

    /** The reference's {@code cfg_schedule}. */
    public enum Guidance {
        LINEAR, CONSTANT;

        static Guidance parse(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "linear" -> LINEAR;
                case "constant" -> CONSTANT;
                default -> throw new IllegalArgumentException("cfg schedule '" + name + "': expected linear or constant");
            };
        }
    }

    public DecodeSchedule {
        counts = counts.clone();
        cfg = cfg.clone();
    }

    /** The schedule of {@code steps} steps over {@code tokens} tokens; throws, naming the step, when one would predict nothing. */
    public static DecodeSchedule of(int tokens, int steps, Reveal reveal, Guidance guidance, double scale) {
        if (tokens <= 0) throw new IllegalArgumentException("a schedule over " + tokens + " tokens");
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        int[] counts = counts(tokens, steps, reveal);
        for (int k = 0; k < steps; k++) {
            if (counts[k] <= 0) {
                throw new IllegalArgumentException(steps + " steps of the " + reveal.name().toLowerCase(Locale.ROOT) + " schedule over " + tokens
                        + " tokens leave step " + k + " with no token to predict (at most " + maxSteps(tokens, reveal) + " steps work)");
            }
        }
        float[] cfg = new float[steps];
        for (int k = 0, done = 0; k < steps; k++) {
            done += counts[k];
            cfg[k] = (float) (guidance == Guidance.LINEAR ? 1.0 + (scale - 1.0) * done / tokens : scale);
        }
        return new DecodeSchedule(tokens, counts, cfg);
    }

    /** Tokens each step predicts, as the reference computes them (a step may get none when there are too many steps). */
    private static int[] counts(int tokens, int steps, Reveal reveal) {
        int[] counts = new int[steps];
        int done = 0;
        for (int k = 0; k < steps; k++) {
            int maskLen = (int) (tokens * reveal.maskRatio(k, steps));
            maskLen = Math.max(1, Math.min(tokens - done - 1, maskLen));
            counts[k] = k == steps - 1 ? tokens - done : tokens - done - maskLen;
            done += Math.max(0, counts[k]);
        }
        return counts;
    }

    /** The most steps for which every step predicts at least one token. */
    static int maxSteps(int tokens, Reveal reveal) {
        int best = 1;
        for (int s = 1; s <= tokens; s++) {
            if (Arrays.stream(counts(tokens, s, reveal)).allMatch(n -> n > 0)) best = s;
        }
        return best;
    }

    public int steps() {
        return counts.length;
    }

    public int count(int step) {
        return counts[step];
    }

    public float cfg(int step) {
        return cfg[step];
    }

    /** Tokens predicted before step k. */
    public int doneBefore(int step) {
        int d = 0;
        for (int i = 0; i < step; i++) d += counts[i];
        return d;
    }

    /** The largest number of tokens any step predicts (its query count). */
    public int maxCount() {
        return Arrays.stream(counts).max().orElse(0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DecodeSchedule s && s.tokens == tokens && Arrays.equals(s.counts, counts) && Arrays.equals(s.cfg, cfg);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "DecodeSchedule" + Arrays.toString(counts);
    }
}
