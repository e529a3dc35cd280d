package ecar.flowar;

import ecar.backend.Backend;
import ecar.backend.Noise;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;
import ecar.family.ImageRows;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Samples token maps with the FlowAR modules over a {@link TokenSchedule}: per stage, one AR pass (KV cache)
 * gives the flow head's condition, then the stage's Euler steps move the state. With guidance the batch is
 * [cond; null]; the conditional half replaces the unconditional one between stages (FlowAR's convention).
 */
public final class TokenSampler {
    private final FlowAr model;
    private final Backend b;
    /** watchFinite's step is stage << 16 | step: the smallest is the first bad step of the first bad stage. */
    private static final int WATCH_STAGE_SHIFT = 16;

    public TokenSampler(FlowAr model, Backend backend) {
        this.model = model;
        this.b = backend;
    }

    /** Where each stage's noise comes from: stage 0's start noise and each later stage's ε. */
    public interface NoiseSource {
        Noise forStage(int stage, Shape shape);

        /**
         * Philox streams (seed, stage) per image: label i is image images[i], and a guided batch's null half draws its
         * conditional row's numbers, so an image is the same in any batch on every backend.
         */
        static NoiseSource perImage(long seed, int[] images) {
            int[] cond = images.clone(), guided = ImageRows.twice(images);
            return (stage, shape) -> Noise.perImage(seed, stage, shape.dim(0) == cond.length ? cond : guided);
        }
    }

    /** Observes a run: the AR condition and the state at the end of each stage, and step progress. */
    public interface Observer {
        Observer NONE = new Observer() {};

        /**
         * The stage's AR output, in the middle of the stage. An observer that reads it makes the sampler run each stage
         * step by step instead of as one {@link Backend#loop}, which could not hand the tensor out.
         */
        default void condition(int stage, Tensor condition) {}

        /** Whether {@link #condition} does anything (it is called only then). */
        default boolean readsConditions() {
            return false;
        }

        default void stageEnd(int stage, Tensor state) {}

        /** Steps done so far; a stage replayed as one graph reports its steps when it ends. */
        default void step(int done, int total) {}
    }

    /**
     * Token maps [N, C, h, w] for the labels. With cfg &gt; 1 (any stage guided) the model runs on [cond; null].
     */
    public Tensor sample(int[] labels, TokenSchedule schedule, NoiseSource noise, Observer observer) {
        FlowArConfig cfg = model.config();
        checkLabels(labels, cfg);
        checkSides(schedule, cfg);
        boolean guidance = schedule.stages().stream().anyMatch(p -> p.cfg() > 1f);
        int n = labels.length, batch = guidance ? 2 * n : n;
        int[] rows = new int[batch];
        for (int i = 0; i < batch; i++) rows[i] = i < n ? labels[i] : FlowArConfig.CLASS_ROWS - 1;

        int total = schedule.totalSteps(), done = 0;
        Tensor classEmb = model.ar().classEmbedding(rows);
        ArTransformer.Session session;
        try (Backend.Scope r = b.region("class adaLN (once)")) {
            session = model.ar().start(classEmb);
        }
        Tensor classToken = b.reshape(classEmb, Shape.of(batch, 1, cfg.dim()));
        Tensor state = null, resized = null;   // resized: the previous stage's tokens on this stage's grid
        for (int s = 0; s < schedule.stages().size(); s++) {
            StagePlan plan = schedule.stage(s);
            Shape shape = Shape.of(batch, plan.side() * plan.side(), cfg.tokenDim());
            Noise stageNoise = noise.forStage(s, shape);
            if (!plan.jump()) {
                state = switch (stageNoise) {
                    case Noise.Given g -> b.upload(b.download(g.eps()));
                    case Noise.Philox p -> b.randn(shape, p.seed(), p.stream());
                    case Noise.PerImage p -> b.randn(shape, p.seed(), p.stream(), p.images());
                };
            } else {
                state = b.stageJump(state, plan.side() / 2, plan.alpha(), plan.beta(), plan.gamma(), stageNoise);
            }
            Stage stage = new Stage(s, plan, session, s == 0 ? classToken : resized, state, batch, done, total, observer);
            if (observer.readsConditions()) {
                stage.run();
            } else {
                b.loop(stage.key(), stage.scalars(), stage);
            }
            done += plan.steps();
            if (stage.reported < plan.steps()) observer.step(done, total);   // replayed: the body did not run to report
            observer.stageEnd(s, state);
            if (guidance) state = b.condTwice(state);
            if (s + 1 < schedule.stages().size()) {
                int next = schedule.stage(s + 1).side(), grid = schedule.resizeGrid(cfg.grid());
                Tensor img = b.reshape(state, Shape.of(batch, plan.side(), plan.side(), cfg.tokenDim()));
                resized = b.reshape(b.resizeArea(b.resizeBicubic(img, grid, grid), next, next), Shape.of(batch, next * next, cfg.tokenDim()));
            }
        }
        // one wait for the whole generation: the smallest watched (stage, step) that went non-finite
        int bad = b.firstNonFinite();
        if (bad >= 0) {
            int s = bad >>> WATCH_STAGE_SHIFT, i = bad & ((1 << WATCH_STAGE_SHIFT) - 1);
            StagePlan plan = schedule.stage(s);
            throw new ArithmeticException(schedule.kind() + " sampling produced NaN or Inf at stage " + s + " (" + plan.side() + "×"
                    + plan.side() + "), step " + (i + 1) + " of " + plan.steps() + " (t = " + plan.t()[i] + ")");
        }
        Tensor cond = guidance ? b.sliceBatch(state, 0, n) : state;
        int side = cfg.grid();
        return b.nhwcToNchw(b.reshape(cond, Shape.of(n, side, side, cfg.tokenDim())));
    }

    /**
     * One stage after its start state: the AR pass gives the flow head's condition, then the stage's Euler steps move
     * the state in place, each one {@link Backend#step} keyed by stage and guidance with the head's time input, dt and
     * the weight as its scalars, each followed by a NaN watch. As a whole it is one {@link Backend#loop}, keyed by the
     * stage and its steps' guidance: a GPU backend replays it in later generations as one graph.
     *
     * The AR input is the class token at stage 0, else the previous stage's tokens on this grid.
     */
    private final class Stage implements Runnable {
        private final int s, batch, done, total;
        private final StagePlan plan;
        private final ArTransformer.Session session;
        private final Tensor input, state;
        private final Observer observer;
        /** Steps this stage's body reported (none when its loop was replayed as a graph). */
        private int reported;

        Stage(int s, StagePlan plan, ArTransformer.Session session, Tensor input, Tensor state, int batch, int done, int total, Observer observer) {
            this.s = s;
            this.plan = plan;
            this.session = session;
            this.input = input;
            this.state = state;
            this.batch = batch;
            this.done = done;
            this.total = total;
            this.observer = observer;
        }

        /** What the stage launches besides its scalars: the model, the stage (its grid) and which steps are guided. */
        StepKey key() {
            return new StepKey(model, "stage, steps guided " + java.util.Arrays.toString(plan.guided()), s, batch);
        }

        List<StepScalars> scalars() {
            List<StepScalars> out = new ArrayList<>();
            for (int i = 0; i < plan.steps(); i++) out.add(StepScalars.flow(FlowHead.timeInput(plan.t()[i]), plan.dt()[i], plan.cfg()));
            return out;
        }

        @Override
        public void run() {
            String name = "stage " + s + " (" + plan.side() + "×" + plan.side() + ")";
            // The stage's condition, the head's per-stage keys and values and the captured steps live in this scope; only
            // the state (updated in place) outlives it.
            try (Backend.Scope stageScope = b.scope()) {
                Tensor condition;
                try (Backend.Scope r = b.region(name + " › AR pass")) {
                    condition = session.stage(s, s == 0 ? input : model.ar().projectTokens(input));
                }
                if (observer.readsConditions()) observer.condition(s, condition);
                FlowHead.Prepared prepared;
                try (Backend.Scope r = b.region(name + " › head prepare")) {
                    prepared = model.head().prepare(condition, plan.side());
                }
                List<StepScalars> scalars = scalars();
                float[] t = new float[batch];
                for (int i = 0; i < plan.steps(); i++) {
                    float ti = plan.t()[i], dt = plan.dt()[i];
                    boolean guided = plan.guided()[i];
                    StepKey key = new StepKey(model, guided ? "flow-head step guided" : "flow-head step", s, batch);
                    b.step(key, scalars.get(i), () -> {
                        try (Backend.Scope r = b.region(name + " › head step")) {
                            java.util.Arrays.fill(t, ti);
                            Tensor in = guided ? b.condTwice(state) : state;
                            Tensor v = model.head().velocity(prepared, in, t);
                            b.flowEulerStep(state, v, dt, plan.cfg(), guided);
                        }
                    });
                    b.watchFinite(state, (s << WATCH_STAGE_SHIFT) | i);   // stage and step: fixed for the stage's key, so a replay reports right
                    observer.step(done + ++reported, total);
                }
            }
        }
    }

    private static void checkLabels(int[] labels, FlowArConfig cfg) {
        if (labels.length == 0) throw new IllegalArgumentException("no class labels given");
        for (int l : labels) {
            if (l < 0 || l >= cfg.numClasses()) {
                throw new IllegalArgumentException("class label " + l + " outside [0, " + (cfg.numClasses() - 1) + "]");
            }
        }
    }

    private static void checkSides(TokenSchedule schedule, FlowArConfig cfg) {
        if (schedule.stages().size() != cfg.stages()) {
            throw new IllegalArgumentException("schedule has " + schedule.stages().size() + " stages, the model " + cfg.stages()
                    + " (scales " + java.util.Arrays.toString(cfg.scales()) + ")");
        }
        for (int s = 0; s < cfg.stages(); s++) {
            if (schedule.stage(s).side() != cfg.side(s)) {
                throw new IllegalArgumentException("schedule stage " + s + " is " + schedule.stage(s).side() + "×" + schedule.stage(s).side()
                        + ", the model's " + cfg.side(s) + "×" + cfg.side(s));
            }
        }
    }
}
