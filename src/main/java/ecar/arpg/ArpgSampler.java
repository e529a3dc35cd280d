package ecar.arpg;

import ecar.backend.Backend;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * ARPG's randomized parallel decoding ({@code Transformer.generate}): a random order of the grid, then per step one
 * pass of the decoder-decoder that feeds the tokens drawn last (the class token at step 0) and predicts the next
 * positions of the order at once, guidance on the logits, the filter and one categorical draw per token. The batch is
 * always [cond; null] (2N sequences sharing one order); every step appends to the same KV caches.
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

        /** The ids step k feeds, [2N·n] (conditional half first): the class tokens at step 0, then the tokens drawn last. */
        default void fed(int step, int[] ids) {}

        /**
         * Step k's logits [2N, n, vocab] before guidance. Called inside the step's body, where a download is allowed:
         * ARPG steps are never captured (each has a key of its own, see {@link #sample}).
         */
        default void logits(int step, Tensor logits) {}

        default void progress(int done, int total) {}
    }

    /**
     * Token grids [N][T] in raster order for the labels. {@code order} gives the generation order (1-based positions, a
     * fixture's); null draws it from the seed ({@link GenerationOrder#philox}). Step k's draws use Philox stream
     * 1 + k under the seed. Each step is one {@link Backend#step} keyed by this generation's caches and the step index: a
     * graph captured from it would hold those caches and the step's cache length, so no two steps share a key and each
     * runs eagerly.
     */
    public int[][] sample(int[] labels, ArpgSampling settings, long seed, int[] order, Observer observer) {
        ArpgConfig c = model.config();
        checkLabels(labels, c);
        int n = labels.length, batch = 2 * n, tokens = c.tokens();
        DecodeSchedule schedule = settings.schedule(tokens);
        int[] positions = order != null ? order.clone() : GenerationOrder.philox(seed, tokens);
        GenerationOrder.check(positions, tokens);

        int[] drawn = new int[n * tokens];   // [N, T] in generation order
        try (Backend.Scope generation = b.scope()) {
            float[] rows = new float[1 + tokens];   // table rows in the order they are fed: the class token's 0, then the order's
            for (int j = 0; j < tokens; j++) rows[1 + j] = positions[j];
            Tensor tableRows = b.upload(FloatTensor.of(rows, 1 + tokens));
            ArpgTransformer.Session session = model.start(batch);
            int[] fed = new int[batch];
            for (int i = 0; i < n; i++) {
                fed[i] = c.classToken(labels[i]);
                fed[n + i] = c.nullClassToken();
            }
            int fedFrom = 0, done = 0;   // rows [fedFrom, 1 + done) of tableRows are those of the fed tokens
            for (int k = 0; k < schedule.steps(); k++) {
                int count = schedule.count(k), step = k;
                float cfg = schedule.cfg(k);
                Tensor x = model.embed(fed, batch), queries = model.embed(maskTokens(batch * count), batch);
                Tensor fedRows = b.sliceBatch(tableRows, fedFrom, 1 + done), targetRows = b.sliceBatch(tableRows, 1 + done, 1 + done + count);
                Tensor ids = b.zeros(Shape.of(n, count));
                observer.fed(k, fed.clone());
                b.step(new StepKey(session, "ARPG decoding step", k, batch), new StepScalars(0f, 0f, cfg, null, seed, GenerationOrder.FIRST_STEP_STREAM + k),
                        () -> {
                            try (Backend.Scope r = b.region("decoding step")) {
                                Tensor logits = session.step(x, fedRows, queries, targetRows);
                                observer.logits(step, logits);
                                b.sampleTokens(b.guideLogits(logits, cfg, settings.temperature()), settings.filter(), seed,
                                        GenerationOrder.FIRST_STEP_STREAM + step, ids);
                            }
                        });
                int[] got = checkedIds(b.download(ids).data(), c.vocab(), k, schedule.steps());
                fed = new int[batch * count];
                for (int i = 0; i < n; i++) {
                    System.arraycopy(got, i * count, drawn, i * tokens + done, count);
                    System.arraycopy(got, i * count, fed, i * count, count);
                    System.arraycopy(got, i * count, fed, (n + i) * count, count);
                }
                fedFrom = 1 + done;
                done += count;
                observer.progress(k + 1, schedule.steps());
            }
        }
        int[][] raster = new int[n][tokens];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < tokens; j++) raster[i][positions[j] - 1] = drawn[i * tokens + j];
        }
        return raster;
    }

    private int[] maskTokens(int count) {
        int[] ids = new int[count];
        java.util.Arrays.fill(ids, model.config().maskToken());
        return ids;
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
