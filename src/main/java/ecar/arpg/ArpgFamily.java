package ecar.arpg;

import ecar.family.Generator;
import ecar.family.ModelFamily;
import ecar.family.Preset;
import ecar.family.Sampling;
import ecar.fixture.FixtureKind;
import ecar.model.Weights;
import ecar.vae.VaeConfig;

import java.util.List;

/**
 * ARPG (Li et al., randomized parallel decoding): a decoder-decoder transformer over LlamaGen's VQ-16 tokens that
 * generates the grid in a random order, several tokens a step, decoded by the VQ-16 decoder.
 */
public final class ArpgFamily implements ModelFamily {
    public static final ArpgFamily INSTANCE = new ArpgFamily();

    private ArpgFamily() {}

    @Override
    public String id() {
        return "arpg";
    }

    @Override
    public String kind() {
        return "random-order AR, discrete tokens";
    }

    /** ARPG-L, -XL, -XXL at 256² with their reproduction cfg (5.0, 6.0, 7.5), and arpg-tiny for tests (the fixture's size). */
    @Override
    public List<Preset> presets() {
        ArpgConfig tiny = new ArpgConfig(64, 4, 4, 64, 10, 16, 10000, 1e-5f, 32);
        return List.of(
                new Preset("arpg-l", this, 256, ArpgConfig.named("L"), VaeConfig.vq16(), ArpgSampling.defaults(5f), "ARPG-L (arpg_300m), VQ-16 decoder"),
                new Preset("arpg-xl", this, 256, ArpgConfig.named("XL"), VaeConfig.vq16(), ArpgSampling.defaults(6f), "ARPG-XL (arpg_700m), VQ-16 decoder"),
                new Preset("arpg-xxl", this, 256, ArpgConfig.named("XXL"), VaeConfig.vq16(), ArpgSampling.defaults(7.5f), "ARPG-XXL (arpg_1b), VQ-16 decoder"),
                new Preset("arpg-tiny", this, 64, tiny, VaeConfig.tinyVq(tiny.vocab()), ArpgSampling.defaults(4f).withSteps(8), "tiny ARPG for tests (64² images)"));
    }

    @Override
    public Generator load(Preset preset, Weights weights) {
        return new ArpgGenerator(ArpgTransformer.load((ArpgConfig) preset.architecture(), weights), weights.backend());
    }

    /** Four steps: every kind of step (the class token's, fed tokens', the last one's) in a fraction of the time. */
    @Override
    public Sampling warmup(Sampling full) {
        ArpgSampling s = (ArpgSampling) full;
        return s.withSteps(Math.min(4, s.steps()));
    }

    /** The schedule must give every step a token on this grid. */
    @Override
    public void check(Preset preset, Sampling sampling) {
        ((ArpgSampling) sampling).schedule(((ArpgConfig) preset.architecture()).tokens());
    }

    @Override
    public List<FixtureKind> fixtures() {
        return List.of(new FixtureKind("arpg.generate", ArpgFixtures::generate), new FixtureKind("arpg.filter", ArpgFixtures::filter));
    }
}
