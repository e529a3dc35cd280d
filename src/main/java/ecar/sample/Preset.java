package ecar.sample;

import ecar.model.DiTConfig;
import ecar.model.FlowArConfig;

/**
 * A named model: its family, architecture, image size and default sampling. Weights come from a checkpoint
 * directory or, for presets, from seeded random numbers.
 *
 * @param dit    the architecture when family is DIT, else null
 * @param flowAr the architecture when family is FLOWAR or ECAR, else null
 */
public record Preset(String name, Family family, int imageSize, DiTConfig dit, FlowArConfig flowAr, Sampling sampling, String about) {

    /** Latent channels per token / pixel of the VAE the model works with. */
    public int latentChannels() {
        return family == Family.DIT ? dit.inChannels() : flowAr.tokenDim();
    }

    public int numClasses() {
        return family == Family.DIT ? dit.numClasses() : flowAr.numClasses();
    }

    public Preset withSampling(Sampling s) {
        return new Preset(name, family, imageSize, dit, flowAr, s, about);
    }

    /** The schedule of a FlowAR-family model for these settings. */
    public TokenSchedule tokenSchedule(Sampling s) {
        int[] sides = flowAr.scales();
        return family == Family.ECAR
                ? TokenSchedule.ecar(sides, s.ecarSteps(sides.length), s.gamma(), s.cfg(), s.guidanceHigh())
                : TokenSchedule.flowAr(sides, s.steps(), s.cfg(), s.guidanceHigh());
    }
}
