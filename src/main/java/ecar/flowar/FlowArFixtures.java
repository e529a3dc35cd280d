package ecar.flowar;

import ecar.fixture.Comparison;
import ecar.fixture.Fixture;
import ecar.fixture.Tolerance;

import ecar.backend.Backend;
import ecar.backend.Noise;
import ecar.io.Json;
import ecar.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The flowar.* and ecar.* fixture kinds: the flow head alone, and whole samplers over the FlowAR modules. */
public final class FlowArFixtures {
    private FlowArFixtures() {}

    private static FlowAr load(Fixture f, Backend b) {
        return FlowAr.load(FlowArConfig.fromJson(f.config()), f.weights(b));
    }

    public static List<Comparison> flowHead(Fixture f, Backend b) {
        FlowAr m = load(f, b);
        Tensor v = m.head().forward(f.input(b, "x"), f.input("t").data(), f.input(b, "condition"));
        return List.of(Comparison.of("v", b.download(v), f.expected("v"), Tolerance.FORWARD));
    }

    public static List<Comparison> flowArSample(Fixture f, Backend b) {
        FlowAr m = load(f, b);
        Json.Obj c = f.config();
        TokenSchedule schedule = TokenSchedule.flowAr(m.config().scales(), c.integer("num_steps"), (float) c.num("cfg"), (float) c.num("guidance"));
        return sample(f, b, m, schedule);
    }

    public static List<Comparison> ecarSample(Fixture f, Backend b) {
        FlowAr m = load(f, b);
        Json.Obj c = f.config();
        int[] steps = new int[m.config().stages()];
        Arrays.fill(steps, c.integer("ecar_steps"));
        TokenSchedule schedule = TokenSchedule.ecar(m.config().scales(), steps, c.num("gamma"), (float) c.num("cfg"), (float) c.num("guidance"));
        return sample(f, b, m, schedule);
    }

    /** Runs the sampler with the fixture's noise draws, comparing every per-stage tensor the fixture holds. */
    private static List<Comparison> sample(Fixture f, Backend b, FlowAr m, TokenSchedule schedule) {
        List<Comparison> results = new ArrayList<>();
        TokenSampler.Observer observer = new TokenSampler.Observer() {
            @Override
            public boolean readsConditions() {
                return true;
            }

            @Override
            public void condition(int stage, Tensor condition) {
                if (f.hasExpected("condition." + stage)) {
                    results.add(Comparison.of("condition." + stage, b.download(condition), f.expected("condition." + stage), Tolerance.FORWARD));
                }
            }

            @Override
            public void stageEnd(int stage, Tensor state) {
                if (f.hasExpected("stage_out." + stage)) {
                    results.add(Comparison.of("stage_out." + stage, b.download(state), f.expected("stage_out." + stage), Tolerance.SAMPLER));
                }
            }
        };
        TokenSampler.NoiseSource noise = (stage, shape) -> Noise.of(f.input(b, "noise." + stage));
        Tensor tokens = new TokenSampler(m, b).sample(f.ints("labels"), schedule, noise, observer);
        results.add(Comparison.of("tokens", b.download(tokens), f.expected("tokens"), Tolerance.SAMPLER));
        return results;
    }
}
