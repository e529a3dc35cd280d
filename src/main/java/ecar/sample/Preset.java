package ecar.sample;

import ecar.flowar.TokenSchedule;

import ecar.dit.DiTConfig;
import ecar.flowar.FlowArConfig;
import ecar.vae.VaeConfig;

/**
 * A named model: its family, architecture, image size and default sampling. Weights come from a checkpoint
 * directory or, for presets, from seeded random numbers.
 *
 * @param dit    the architecture when family is DIT, else null
 * @param flowAr the architecture when family is FLOWAR or ECAR, else null
 * @param vae    the decoder that turns the model's latents into pictures
 */
public record Preset(String name, Family family, int imageSize, DiTConfig dit, FlowArConfig flowAr, VaeConfig vae, Sampling sampling, String about) {

    public Preset {
        int latentSide = family == Family.DIT ? dit.inputSize() : flowAr.scales()[flowAr.scales().length - 1];
        int latent = family == Family.DIT ? dit.inChannels() : flowAr.tokenDim();
        if (vae.embedDim() != latent || latentSide * vae.factor() != imageSize) {
            throw new IllegalArgumentException(name + ": VAE " + vae + " does not fit " + latent + "-channel " + latentSide + "² latents of "
                    + imageSize + "² images");
        }
    }

    /** Latent channels per token / pixel of the VAE the model works with. */
    public int latentChannels() {
        return family == Family.DIT ? dit.inChannels() : flowAr.tokenDim();
    }

    public int numClasses() {
        return family == Family.DIT ? dit.numClasses() : flowAr.numClasses();
    }

    public Preset withSampling(Sampling s) {
        return new Preset(name, family, imageSize, dit, flowAr, vae, s, about);
    }

    /** The schedule of a FlowAR-family model for these settings. */
    public TokenSchedule tokenSchedule(Sampling s) {
        int[] sides = flowAr.scales();
        return family == Family.ECAR
                ? TokenSchedule.ecar(sides, s.ecarSteps(sides.length), s.gamma(), s.cfg(), s.guidanceHigh())
                : TokenSchedule.flowAr(sides, s.steps(), s.cfg(), s.guidanceHigh());
    }
}
