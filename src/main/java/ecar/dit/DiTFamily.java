package ecar.dit;

import ecar.family.Architecture;
import ecar.family.Generator;
import ecar.family.ModelFamily;
import ecar.family.Preset;
import ecar.family.Sampling;
import ecar.fixture.FixtureKind;
import ecar.io.Json;
import ecar.model.WeightSource;
import ecar.model.Weights;
import ecar.vae.VaeConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** DiT (Peebles &amp; Xie): a diffusion transformer denoising SD-VAE latents over hundreds of steps. */
public final class DiTFamily implements ModelFamily {
    public static final DiTFamily INSTANCE = new DiTFamily();

    private DiTFamily() {}

    @Override
    public String id() {
        return "dit";
    }

    @Override
    public String kind() {
        return "diffusion transformer";
    }

    /** S, B, L, XL with patch 2, 4, 8 at 256² (SD f8 VAE), and dit-tiny for tests. */
    @Override
    public List<Preset> presets() {
        List<Preset> all = new ArrayList<>();
        for (String size : new String[]{"s", "b", "l", "xl"}) {
            for (int p : new int[]{2, 4, 8}) {
                all.add(new Preset("dit-" + size + "-" + p, this, 256, DiTConfig.named(size, p, 32), VaeConfig.sdF8(), DiTSampling.defaults(),
                        "DiT-" + size.toUpperCase(Locale.ROOT) + "/" + p + " (Peebles & Xie), SD f8 VAE"));
            }
        }
        DiTConfig tiny = new DiTConfig(8, 2, 4, 96, 2, 4, 4.0, 10, true);
        all.add(new Preset("dit-tiny", this, 64, tiny, VaeConfig.tiny(4, 8),
                new DiTSampling(10, 4f, DiTSampler.Method.DDIM, Guidance.OFFICIAL_3_CHANNELS), "tiny DiT for tests (64² images)"));
        return all;
    }

    @Override
    public Architecture withNumbers(Architecture preset, Json.Obj numbers) {
        return ((DiTConfig) preset).with(numbers);
    }

    @Override
    public List<String> disagreements(Preset preset, WeightSource weights) {
        return DiTShapes.disagreements((DiTConfig) preset.architecture(), preset.vae().factor(), weights);
    }

    @Override
    public Generator load(Preset preset, Weights weights) {
        return new DiTGenerator(new DiT((DiTConfig) preset.architecture(), weights), weights.backend());
    }

    /** Five steps (DDPM's noiseless last step included). */
    @Override
    public Sampling warmup(Sampling full) {
        DiTSampling s = (DiTSampling) full;
        return s.withSteps(Math.min(5, s.steps()));
    }

    @Override
    public List<FixtureKind> fixtures() {
        return List.of(new FixtureKind("dit.forward", DiTFixtures::forward), new FixtureKind("dit.p_mean_variance", DiTFixtures::pMeanVariance),
                new FixtureKind("dit.ddim", DiTFixtures::ddim));
    }
}
