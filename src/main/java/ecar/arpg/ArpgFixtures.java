package ecar.arpg;

import ecar.backend.Backend;
import ecar.backend.LogitFilter;
import ecar.fixture.Comparison;
import ecar.fixture.Fixture;
import ecar.fixture.Tolerance;
import ecar.io.Json;
import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The arpg.* fixture kinds: the whole greedy generation with a given order, and top_k_top_p_filtering alone. */
public final class ArpgFixtures {
    private ArpgFixtures() {}

    /** arpg.generate with the fixture's own order (input.orders). */
    public static List<Comparison> generate(Fixture f, Backend b) {
        return generate(f, b, f.ints("orders"));
    }

    /**
     * arpg.generate with the given order: every step's fed ids (exact) and raw logits (1e-4), the tokens (exact), and a
     * check of the fixture itself, that the order puts each step's draws where its expected tokens have them.
     */
    public static List<Comparison> generate(Fixture f, Backend b, int[] order) {
        Json.Obj c = f.config();
        ArpgConfig cfg = ArpgConfig.fromJson(c);
        ArpgTransformer model = ArpgTransformer.load(cfg, f.weights(b));
        ArpgSampling greedy = new ArpgSampling(c.integer("num_iter"), (float) c.num("cfg"), DecodeSchedule.Guidance.parse(c.str("cfg_schedule", "linear")),
                DecodeSchedule.Reveal.parse(c.str("sample_schedule", "arccos")), 1f, new LogitFilter(1, 1f));
        List<Comparison> results = new ArrayList<>();
        results.add(orderAgreesWithTokens(f, cfg, greedy.schedule(cfg.tokens()), order));
        ArpgSampler.Observer observer = new ArpgSampler.Observer() {
            @Override
            public boolean readsLogits() {
                return true;
            }

            @Override
            public void fed(int step, int[] ids) {
                FloatTensor expected = f.expectedIntegers("input_ids." + step);
                results.add(Comparison.exact("input_ids." + step, new FloatTensor(expected.shape(), floats(ids)), expected));
            }

            @Override
            public void logits(int step, Tensor logits) {
                results.add(Comparison.of("logits." + step, b.download(logits), f.expected("logits." + step), Tolerance.FORWARD));
            }
        };
        int[][] tokens = new ArpgSampler(model, b).sample(f.ints("labels"), greedy, 0, order, observer);
        FloatTensor expected = f.expectedIntegers("tokens");
        float[] ours = new float[expected.data().length];
        for (int i = 0; i < tokens.length; i++) for (int j = 0; j < cfg.tokens(); j++) ours[i * cfg.tokens() + j] = tokens[i][j];
        results.add(Comparison.exact("tokens", new FloatTensor(expected.shape(), ours), expected));
        return results;
    }

    /**
     * The fixture's own consistency: the ids step k + 1 feeds (the draws of step k, conditional half) must sit in the
     * expected tokens at the positions the order gives step k. A failure means the order is not the one the expected
     * outputs were made with.
     */
    private static Comparison orderAgreesWithTokens(Fixture f, ArpgConfig cfg, DecodeSchedule schedule, int[] order) {
        GenerationOrder.check(order, cfg.tokens());
        float[] tokens = f.expectedIntegers("tokens").data();
        int n = tokens.length / cfg.tokens();
        List<Float> placed = new ArrayList<>(), drawn = new ArrayList<>();
        for (int k = 0, done = 0; k + 1 < schedule.steps(); done += schedule.count(k), k++) {
            float[] next = f.expectedIntegers("input_ids." + (k + 1)).data();
            int count = schedule.count(k);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < count; j++) {
                    placed.add(tokens[i * cfg.tokens() + order[done + j] - 1]);
                    drawn.add(next[i * count + j]);
                }
            }
        }
        Comparison c = Comparison.exact("fixture: input order vs expected tokens", tensor(placed), tensor(drawn));
        return c.passed() ? c : new Comparison(c.name(), c.relError(), c.tolerance(),
                "the order does not put the steps' draws where expected.tokens has them: not the order the reference ran with (" + c.note() + ")");
    }

    /** arpg.filter: each (top_k, top_p) of config.settings on input.logits, exactly, the same entries −∞. */
    public static List<Comparison> filter(Fixture f, Backend b) {
        Object settings = f.config().map().get("settings");
        if (!(settings instanceof List<?> list) || list.isEmpty()) {
            throw new IllegalArgumentException(f.path() + ": config.settings must be a non-empty list of {top_k, top_p}");
        }
        Tensor logits = f.input(b, "logits");
        List<Comparison> results = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) throw new IllegalArgumentException(f.path() + ": config.settings[" + i + "] is not an object");
            @SuppressWarnings("unchecked") Json.Obj s = new Json.Obj((Map<String, Object>) m, f.path() + " config.settings[" + i + "]");
            LogitFilter filter = new LogitFilter(s.integer("top_k"), (float) s.num("top_p"));
            results.add(Comparison.exact("filtered." + i + " (top-k " + filter.topK() + ", top-p " + filter.topP() + ")",
                    b.download(b.filterLogits(logits, filter)), f.expected("filtered." + i)));
        }
        return results;
    }

    private static float[] floats(int[] ids) {
        float[] r = new float[ids.length];
        for (int i = 0; i < ids.length; i++) r[i] = ids[i];
        return r;
    }

    private static FloatTensor tensor(List<Float> values) {
        float[] r = new float[values.size()];
        for (int i = 0; i < r.length; i++) r[i] = values.get(i);
        return FloatTensor.of(r, r.length);
    }
}
