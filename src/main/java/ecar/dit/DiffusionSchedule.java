package ecar.dit;

import ecar.model.Linspace;

import ecar.backend.DiffusionCoefficients;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * DiT's Gaussian diffusion (the ADM code it reuses): 1000 training steps, linear β from 1e-4 to 0.02, respaced
 * as {@code space_timesteps}/{@code SpacedDiffusion} do — "250" keeps 250 evenly strided steps, "ddim50" the
 * stride that gives exactly 50, "10,15,20" counts per section. Everything is computed once, in float64 like
 * the reference; {@link #at(int)} gives a step's scalars as the float32 values the reference multiplies with.
 */
public final class DiffusionSchedule {
    public static final int TRAINING_STEPS = 1000;

    private final String respacing;
    private final int[] timestepMap;     // respaced index → original timestep, what the model sees
    private final double[] betas, alphaBar, alphaBarPrev;

    private DiffusionSchedule(String respacing, int[] timestepMap, double[] betas) {
        this.respacing = respacing;
        this.timestepMap = timestepMap;
        this.betas = betas;
        int n = betas.length;
        alphaBar = new double[n];
        alphaBarPrev = new double[n];
        double prod = 1.0;
        for (int i = 0; i < n; i++) {
            alphaBarPrev[i] = prod;
            prod *= 1.0 - betas[i];
            alphaBar[i] = prod;
        }
    }

    /** The linear-β schedule of {@code trainingSteps} steps, respaced by a spec such as "250" or "ddim50". */
    public static DiffusionSchedule linear(String respacing) {
        int t = TRAINING_STEPS;
        double scale = 1000.0 / t;
        double[] base = Linspace.numpy(scale * 0.0001, scale * 0.02, t);
        TreeSet<Integer> keep = spaceTimesteps(t, respacing);
        List<Double> newBetas = new ArrayList<>();
        int[] map = new int[keep.size()];
        double last = 1.0, prod = 1.0;
        int k = 0;
        for (int i = 0; i < t; i++) {
            prod *= 1.0 - base[i];
            if (keep.contains(i)) {
                newBetas.add(1.0 - prod / last);
                last = prod;
                map[k++] = i;
            }
        }
        double[] betas = new double[newBetas.size()];
        for (int i = 0; i < betas.length; i++) betas[i] = newBetas.get(i);
        return new DiffusionSchedule(respacing, map, betas);
    }

    /** The kept original timesteps, as the reference's space_timesteps. */
    static TreeSet<Integer> spaceTimesteps(int numTimesteps, String spec) {
        String s = spec.trim();
        if (s.startsWith("ddim")) {
            int desired = parseCount(s.substring(4), spec);
            for (int stride = 1; stride < numTimesteps; stride++) {
                int count = (numTimesteps + stride - 1) / stride;
                if (count == desired) {
                    TreeSet<Integer> r = new TreeSet<>();
                    for (int i = 0; i < numTimesteps; i += stride) r.add(i);
                    return r;
                }
            }
            throw new IllegalArgumentException("respacing '" + spec + "': no integer stride of " + numTimesteps + " steps gives exactly " + desired);
        }
        String[] parts = s.split(",");
        int sections = parts.length;
        int sizePer = numTimesteps / sections, extra = numTimesteps % sections, start = 0;
        TreeSet<Integer> all = new TreeSet<>();
        for (int i = 0; i < sections; i++) {
            int count = parseCount(parts[i], spec);
            int size = sizePer + (i < extra ? 1 : 0);
            if (size < count) {
                throw new IllegalArgumentException("respacing '" + spec + "': cannot take " + count + " steps from a section of " + size);
            }
            double frac = count <= 1 ? 1 : (double) (size - 1) / (count - 1);
            double cur = 0.0;
            for (int j = 0; j < count; j++) {
                all.add(start + (int) Math.rint(cur));   // Python's round(): halves to even
                cur += frac;
            }
            start += size;
        }
        return all;
    }

    private static int parseCount(String text, String spec) {
        try {
            int n = Integer.parseInt(text.trim());
            if (n <= 0) throw new IllegalArgumentException("respacing '" + spec + "': step counts must be positive, got " + n);
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("respacing '" + spec + "': expected step counts like \"250\", \"ddim50\" or \"10,20\"");
        }
    }

    public String respacing() {
        return respacing;
    }

    /** Number of respaced steps. */
    public int steps() {
        return betas.length;
    }

    /** The original training timestep the model is given at respaced index i. */
    public int modelTimestep(int i) {
        return timestepMap[i];
    }

    public double alphaBar(int i) {
        return alphaBar[i];
    }

    /** The float32 coefficients of respaced step i. */
    public DiffusionCoefficients at(int i) {
        if (i < 0 || i >= steps()) throw new IllegalArgumentException("step " + i + " outside [0, " + steps() + ")");
        double ab = alphaBar[i], abPrev = alphaBarPrev[i], beta = betas[i];
        double posteriorVar = beta * (1.0 - abPrev) / (1.0 - ab);
        // log of the posterior variance with its first entry replaced by the second (0 at t = 0)
        double clipped = i == 0 ? (steps() > 1 ? betas[1] * (1.0 - alphaBarPrev[1]) / (1.0 - alphaBar[1]) : posteriorVar) : posteriorVar;
        // FIXED_LARGE takes β_t, but β̃_1 at the first step (np.append(posterior_variance[1], betas[1:]))
        double large = i == 0 ? clipped : beta;
        float abPrevF = (float) abPrev;
        return new DiffusionCoefficients(
                (float) Math.sqrt(1.0 / ab),
                (float) Math.sqrt(1.0 / ab - 1.0),
                (float) (beta * Math.sqrt(abPrev) / (1.0 - ab)),
                (float) ((1.0 - abPrev) * Math.sqrt(1.0 - beta) / (1.0 - ab)),
                (float) Math.log(clipped),
                (float) Math.log(beta),
                (float) Math.sqrt(abPrevF),
                (float) Math.sqrt(1f - abPrevF),
                (float) Math.log(large));
    }
}
