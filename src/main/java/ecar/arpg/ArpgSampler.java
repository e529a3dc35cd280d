package ecar.arpg;

import ecar.backend.Backend;
import ecar.backend.LogitFilter;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ARPG's randomized parallel decoding ({@code Transformer.generate}): a random order of the grid, then per step one
 * pass of the decoder-decoder that feeds the tokens drawn last (the class token at step 0) and predicts the next
 * positions of the order at once, guidance on the logits, the filter and one categorical draw per token. The batch is
 * always [cond; null] (2N sequences sharing one order); every step appends to the same KV caches.
 *
 * <p>The whole generation is one {@link Backend#loop}: each step embeds the previous step's draws from the device
 * (no read-back between steps), its guidance weight and Philox stream are step scalars, and everything the host
 * provides (the order's table rows, the class and mask ids) is uploaded before the loop. So a GPU backend replays a
 * whole generation as one graph from the third on, and the draws are read back once, after the loop.
 */
public final class ArpgSampler {
    private final ArpgTransformer model;
    private final Backend b;

    public ArpgSampler(ArpgTransformer model, Backend backend) {
        this.model = model;
        this.b = backend;
    }

    /** Observes a run: the ids each step feeds and its raw logits (the parity fixture), and progress. */
    public interface Observer {
        Observer NONE = new Observer() {};

        /**
         * The ids step k feeds, [2N·n] (conditional half first): the class tokens at step 0, then the tokens drawn last.
         * Called for every step once the generation is over (the draws are read back after the loop).
         */
        default void fed(int step, int[] ids) {}

        /**
         * Step k's logits [2N, n, vocab] before guidance, called inside the step's body, where the download it needs is
         * allowed only because a run whose observer {@link #readsLogits} is not a {@link Backend#loop}: its steps run one
         * by one, each under a key of its own.
         */
        default void logits(int step, Tensor logits) {}

        /** Whether {@link #logits} is called (and so the generation runs step by step rather than as one loop). */
        default boolean readsLogits() {
            return false;
        }

        /** Steps done of total: a courtesy, as a replayed loop makes no calls back; the last, (total, total), comes after it. */
        default void progress(int done, int total) {}
    }

    /** What a generation's loop launches beyond its batch and step scalars: the steps' token counts, temperature and filter. */
    private record LoopWork(List<Integer> counts, float temperature, LogitFilter filter) {}

    /**
     * Token grids [N][T] in raster order for the labels. {@code order} gives the generation order (1-based positions, a
     * fixture's); null draws it from the seed ({@link GenerationOrder#philox}). Step k's draws use Philox stream
     * 1 + k under the seed; its guidance weight is the schedule's. Both are the step's {@link StepScalars}.
     */
    public int[][] sample(int[] labels, ArpgSampling settings, long seed, int[] order, Observer observer) {
        ArpgConfig c = model.config();
        checkLabels(labels, c);
        int n = labels.length, batch = 2 * n, tokens = c.tokens();
        DecodeSchedule schedule = settings.schedule(tokens);
        int[] positions = order != null ? order.clone() : GenerationOrder.philox(seed, tokens);
        GenerationOrder.check(positions, tokens);
        int steps = schedule.steps();

        int[][] draws = new int[steps][];   // step k's draws [N, count(k)]
        try (Backend.Scope generation = b.scope()) {
            float[] rows = new float[1 + tokens];   // table rows in the order they are fed: the class token's 0, then the order's
            for (int j = 0; j < tokens; j++) rows[1 + j] = positions[j];
            Tensor tableRows = b.upload(FloatTensor.of(rows, 1 + tokens));
            Tensor classIds = b.upload(FloatTensor.of(floats(classTokens(labels, c)), batch));
            float[] mask = new float[batch * schedule.maxCount()];
            Arrays.fill(mask, c.maskToken());
            Tensor maskIds = b.upload(FloatTensor.of(mask, mask.length));
            Tensor[] ids = new Tensor[steps];
            List<StepScalars> scalars = new ArrayList<>();
            List<Integer> counts = new ArrayList<>();
            for (int k = 0; k < steps; k++) {
                ids[k] = b.zeros(Shape.of(n, schedule.count(k)));
                scalars.add(new StepScalars(0f, 0f, schedule.cfg(k), null, seed, GenerationOrder.FIRST_STEP_STREAM + k));
                counts.add(schedule.count(k));
            }
            ArpgTransformer.Session session = model.start(batch);
            Runnable decode = () -> {
                for (int k = 0; k < steps; k++) {
                    // step k feeds the class tokens (table row 0) or step k − 1's draws, and predicts the order's next count(k)
                    int step = k, count = schedule.count(k), done = schedule.doneBefore(k), fedFrom = k == 0 ? 0 : 1 + schedule.doneBefore(k - 1);
                    observer.progress(k, steps);
                    b.step(new StepKey(session, "ARPG decoding step", k, batch), scalars.get(k), () -> {
                        Tensor x = step == 0 ? model.embed(classIds, batch) : model.embedTwice(ids[step - 1]);
                        Tensor queries = model.embed(b.sliceBatch(maskIds, 0, batch * count), batch);
                        Tensor fedRows = b.sliceBatch(tableRows, fedFrom, 1 + done), targetRows = b.sliceBatch(tableRows, 1 + done, 1 + done + count);
                        try (Backend.Scope r = b.region("decoding step")) {
                            Tensor logits = session.step(x, fedRows, queries, targetRows);
                            observer.logits(step, logits);
                            b.sampleTokens(b.guideLogits(logits, schedule.cfg(step), settings.temperature()), settings.filter(), seed,
                                    GenerationOrder.FIRST_STEP_STREAM + step, ids[step]);
                        }
                    });
                }
            };
            if (observer.readsLogits()) decode.run();
            else b.loop(new StepKey(model, "ARPG generation", 0, batch, new LoopWork(counts, settings.temperature(), settings.filter())), scalars, decode);
            for (int k = 0; k < steps; k++) draws[k] = checkedIds(b.download(ids[k]).data(), c.vocab(), k, steps);
        }
        observer.progress(steps, steps);

        int[] drawn = new int[n * tokens];   // [N, T] in generation order
        for (int k = 0, done = 0; k < steps; done += schedule.count(k), k++) {
            int count = schedule.count(k);
            observer.fed(k, k == 0 ? classTokens(labels, c) : twice(draws[k - 1]));
            for (int i = 0; i < n; i++) System.arraycopy(draws[k], i * count, drawn, i * tokens + done, count);
        }
        int[][] raster = new int[n][tokens];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < tokens; j++) raster[i][positions[j] - 1] = drawn[i * tokens + j];
        }
        return raster;
    }

    /** The ids step 0 feeds, [2N]: the labels' class tokens, then as many null-class tokens. */
    private static int[] classTokens(int[] labels, ArpgConfig c) {
        int n = labels.length;
        int[] fed = new int[2 * n];
        for (int i = 0; i < n; i++) {
            fed[i] = c.classToken(labels[i]);
            fed[n + i] = c.nullClassToken();
        }
        return fed;
    }

    /** A step's draws [N·count] fed to both halves of the batch: [draws; draws]. */
    private static int[] twice(int[] draws) {
        int[] fed = Arrays.copyOf(draws, 2 * draws.length);
        System.arraycopy(draws, 0, fed, draws.length, draws.length);
        return fed;
    }

    private static float[] floats(int[] ids) {
        float[] f = new float[ids.length];
        for (int i = 0; i < ids.length; i++) f[i] = ids[i];
        return f;
    }

    /** The step's draws as ints; a −1 (logits without finite probabilities) or anything outside the codebook is an error. */
    private static int[] checkedIds(float[] ids, int vocab, int step, int steps) {
        int[] r = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            r[i] = (int) ids[i];
            if (r[i] != ids[i] || r[i] < 0 || r[i] >= vocab) {
                throw new ArithmeticException("ARPG sampling produced NaN or infinite logits at step " + (step + 1) + " of " + steps
                        + " (token draw " + i + " gave id " + ids[i] + ", expected one in [0, " + vocab + "))");
            }
        }
        return r;
    }

    private static void checkLabels(int[] labels, ArpgConfig c) {
        if (labels.length == 0) throw new IllegalArgumentException("no class labels given");
        for (int l : labels) {
            if (l < 0 || l >= c.numClasses()) throw new IllegalArgumentException("class label " + l + " outside [0, " + (c.numClasses() - 1) + "]");
        }
    }
}
