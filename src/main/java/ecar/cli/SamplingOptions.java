package ecar.cli;

import ecar.family.Preset;
import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;
import ecar.sample.GenerateRequest;
import picocli.CommandLine.Option;

/**
 * Options that override a model's default sampling settings; shared by generate, flops and compare. Each becomes a
 * {@link SamplingOption}; the model's family refuses one it does not use, naming those it does.
 */
final class SamplingOptions {
    @Option(names = "--steps", paramLabel = "N", description = "DiT: respaced steps; FlowAR: Euler grid K per scale; ECAR: steps per stage; ARPG: decoding steps")
    Integer steps;

    @Option(names = "--stage-steps", split = ",", paramLabel = "K", description = "ECAR: steps of each stage, e.g. 2,3,5,5,5")
    int[] stageSteps;

    @Option(names = "--cfg", paramLabel = "W", description = "classifier-free guidance weight (1 turns it off)")
    Float cfg;

    @Option(names = "--guidance-high", paramLabel = "T", description = "FlowAR/ECAR: guidance only while t <= T")
    Float guidanceHigh;

    @Option(names = "--gamma", paramLabel = "G", description = "ECAR: block-noise correlation in (0, 1/3]")
    Double gamma;

    @Option(names = "--sampler", paramLabel = "ddpm|ddim", description = "DiT: ancestral DDPM or DDIM (eta 0)")
    String sampler;

    @Option(names = "--guide-all-channels", description = "DiT: guide every latent channel instead of the official first three")
    boolean allChannels;

    @Option(names = "--cfg-schedule", paramLabel = "linear|constant", description = "ARPG: guidance ramped from 1 as tokens are done, or constant")
    String cfgSchedule;

    @Option(names = "--order-schedule", paramLabel = "arccos|cosine", description = "ARPG: how fast the random order reveals tokens")
    String orderSchedule;

    @Option(names = "--temperature", paramLabel = "T", description = "ARPG: divides the logits before each token draw")
    Float temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "ARPG: draw among the K most likely tokens (0: all)")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "ARPG: draw from the nucleus of probability P (1: all)")
    Float topP;

    @Option(names = "--image-size", paramLabel = "PX", description = "rebuild the preset for this image size (multiple of 16)")
    Integer imageSize;

    /** The options given, in a fixed order. */
    SamplingOverrides overrides() {
        SamplingOverrides o = SamplingOverrides.NONE;
        if (steps != null) o = o.with(SamplingOption.STEPS, steps);
        if (stageSteps != null) o = o.with(SamplingOption.STAGE_STEPS, stageSteps);
        if (cfg != null) o = o.with(SamplingOption.CFG, cfg);
        if (guidanceHigh != null) o = o.with(SamplingOption.GUIDANCE_HIGH, guidanceHigh);
        if (gamma != null) o = o.with(SamplingOption.GAMMA, gamma);
        if (sampler != null) o = o.with(SamplingOption.SAMPLER, sampler);
        if (allChannels) o = o.with(SamplingOption.GUIDE_ALL_CHANNELS, true);
        if (cfgSchedule != null) o = o.with(SamplingOption.CFG_SCHEDULE, cfgSchedule);
        if (orderSchedule != null) o = o.with(SamplingOption.ORDER_SCHEDULE, orderSchedule);
        if (temperature != null) o = o.with(SamplingOption.TEMPERATURE, temperature);
        if (topK != null) o = o.with(SamplingOption.TOP_K, topK);
        if (topP != null) o = o.with(SamplingOption.TOP_P, topP);
        return o;
    }

    /** The preset rebuilt for --image-size (the sampling settings travel in the request instead). */
    Preset applyArchitecture(Preset p) {
        return imageSize != null ? p.atImageSize(imageSize) : p;
    }

    /** The request with these overrides. */
    GenerateRequest request(GenerateRequest r) {
        return r.options(overrides());
    }

    /** The preset at --image-size with these settings as its defaults, checked against the architecture now. */
    Preset apply(Preset p) {
        Preset sized = applyArchitecture(p);
        return sized.withSampling(sized.settings(overrides()));
    }
}
