package ecar.flowar;

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

/**
 * The FlowAR modules (scale-wise AR transformer + flow head) under one of two schedules: FLOWAR denoises every scale
 * in full; ECAR splits the flow across the stages (MODELS.md §3). Two families, one model.
 */
public final class FlowArFamily implements ModelFamily {
    public static final FlowArFamily FLOWAR = new FlowArFamily(TokenSchedule.Kind.FLOWAR);
    public static final FlowArFamily ECAR = new FlowArFamily(TokenSchedule.Kind.ECAR);

    private final TokenSchedule.Kind kind;

    private FlowArFamily(TokenSchedule.Kind kind) {
        this.kind = kind;
    }

    @Override
    public String id() {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String kind() {
        return kind == TokenSchedule.Kind.ECAR ? "scale-wise AR, flow split over stages" : "scale-wise AR, full flow per scale";
    }

    private FlowArSampling defaults() {
        return kind == TokenSchedule.Kind.ECAR ? FlowArSampling.ecarDefaults() : FlowArSampling.flowArDefaults();
    }

    /**
     * S, L, H at 256² (KL-16 VAE) and a tiny one for tests; for ECAR also a tiny one whose flow head has the v2 blocks of
     * FlowAR-L/H (three of width 128: heads of 64), the kind ECAR-L/H run, which the tiny v1 head never reaches.
     */
    @Override
    public List<Preset> presets() {
        List<Preset> all = new ArrayList<>();
        for (String size : new String[]{"s", "l", "h"}) {
            String up = size.toUpperCase(Locale.ROOT);
            all.add(new Preset(id() + "-" + size, this, 256, FlowArConfig.named(size), VaeConfig.kl16(), defaults(),
                    kind == TokenSchedule.Kind.ECAR ? "ECAR over FlowAR-" + up + " modules, multistage schedule, KL-16 VAE"
                            : "FlowAR-" + up + ", FlowAR schedule, KL-16 VAE"));
        }
        FlowArConfig tiny = new FlowArConfig(64, 64, 1, 1, 4, 16, 10, 2, 64, new int[]{1, 2, 4}, false);
        FlowArSampling s = kind == TokenSchedule.Kind.ECAR ? defaults().withSteps(3).withCfg(3f) : defaults().withSteps(4).withCfg(3f);
        all.add(new Preset(id() + "-tiny", this, 64, tiny, VaeConfig.tiny(16, 16), s, "tiny " + (kind == TokenSchedule.Kind.ECAR ? "ECAR" : "FlowAR") + " for tests"));
        if (kind == TokenSchedule.Kind.ECAR) {
            FlowArConfig tinyV2 = new FlowArConfig(64, 64, 1, 1, 4, 16, 10, 3, 128, new int[]{1, 2, 4}, true);
            all.add(new Preset(id() + "-tiny-v2", this, 64, tinyV2, VaeConfig.tiny(16, 16), s, "tiny ECAR with a v2 flow head (ECAR-L/H's kind) for tests"));
        }
        return all;
    }

    @Override
    public Architecture withNumbers(Architecture preset, Json.Obj numbers) {
        return ((FlowArConfig) preset).with(numbers);
    }

    @Override
    public List<String> disagreements(Preset preset, WeightSource weights) {
        return FlowArShapes.disagreements((FlowArConfig) preset.architecture(), weights);
    }

    @Override
    public Generator load(Preset preset, Weights weights) {
        return new FlowArGenerator(FlowAr.load((FlowArConfig) preset.architecture(), weights), weights.backend());
    }

    /** The fewest steps that still run every stage guided and unguided: FlowAR K = 2, ECAR 1 per stage. */
    @Override
    public Sampling warmup(Sampling full) {
        return ((FlowArSampling) full).withSteps(kind == TokenSchedule.Kind.ECAR ? 1 : 2);
    }

    @Override
    public void check(Preset preset, Sampling sampling) {
        ((FlowArSampling) sampling).schedule((FlowArConfig) preset.architecture());
    }

    @Override
    public List<FixtureKind> fixtures() {
        return kind == TokenSchedule.Kind.ECAR
                ? List.of(new FixtureKind("ecar.sample", FlowArFixtures::ecarSample))
                : List.of(new FixtureKind("flowar.flow_head", FlowArFixtures::flowHead), new FixtureKind("flowar.sample", FlowArFixtures::flowArSample));
    }
}
