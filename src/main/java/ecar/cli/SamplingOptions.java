package ecar.cli;

import ecar.dit.DiTSampler;
import ecar.sample.GenerateRequest;
import ecar.dit.Guidance;
import ecar.sample.Preset;
import ecar.sample.Presets;
import ecar.sample.Sampling;
import picocli.CommandLine.Option;

/** Options that override a model's default sampling settings; shared by generate, flops and compare. */
final class SamplingOptions {
    @Option(names = "--steps", paramLabel = "N", description = "DiT: respaced steps; FlowAR: Euler grid K per scale; ECAR: steps per stage")
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

    @Option(names = "--image-size", paramLabel = "PX", description = "rebuild the preset for this image size (multiple of 16)")
    Integer imageSize;

    /** The preset rebuilt for --image-size (the sampling settings travel in the request instead). */
    Preset applyArchitecture(Preset p) {
        return imageSize != null ? Presets.atImageSize(p, imageSize) : p;
    }

    /** The request with these overrides. */
    GenerateRequest request(GenerateRequest r) {
        if (steps != null) r = r.steps(steps);
        if (stageSteps != null) r = r.stageSteps(stageSteps);
        if (cfg != null) r = r.cfg(cfg);
        if (guidanceHigh != null) r = r.guidanceHigh(guidanceHigh);
        if (gamma != null) r = r.gamma(gamma);
        if (sampler != null) r = r.ditMethod(method());
        if (allChannels) r = r.ditGuidance(Guidance.ALL_CHANNELS);
        return r;
    }

    private DiTSampler.Method method() {
        return switch (sampler.toLowerCase(java.util.Locale.ROOT)) {
            case "ddpm" -> DiTSampler.Method.DDPM;
            case "ddim" -> DiTSampler.Method.DDIM;
            default -> throw new IllegalArgumentException("--sampler " + sampler + ": expected ddpm or ddim");
        };
    }

    Preset apply(Preset p) {
        if (imageSize != null) p = Presets.atImageSize(p, imageSize);
        Sampling s = request(GenerateRequest.of(0)).applyTo(p.sampling());
        Preset out = p.withSampling(s);
        if (out.flowAr() != null) out.tokenSchedule(s);   // validates stage counts against the model now, before any work
        return out;
    }
}
