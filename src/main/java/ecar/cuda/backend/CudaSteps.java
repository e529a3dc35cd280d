package ecar.cuda.backend;

import ecar.backend.Check;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.StepKey;
import ecar.backend.StepLoop;
import ecar.backend.StepScalars;

import ecar.cuda.ArenaLedger;
import ecar.cuda.CudaGraph;
import ecar.cuda.DeviceArena;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.LoopGraphs;
import ecar.cuda.StepGraphs;
import ecar.cuda.Stream;

import java.util.List;

/**
 * CudaBackend's captured sampling steps and loops: which step runs eagerly, is captured as a CUDA graph or replayed
 * (StepGraphs), the same for whole loops across generations (LoopGraphs), the captures themselves and the arena range
 * each uses, the device buffers of step scalars that captured kernels read, and the guards that keep host traffic and
 * foreign per-step values out of a capture. The CPU backend has no twin: it runs every step eagerly (Backend.step) and
 * checks a loop's steps against the loop's declared ones (StepLoop), as this does.
 */
final class CudaSteps {
    /** Steps a captured loop may have: its scalars occupy that many slots of {@link #loopScalars}. Longer loops run eagerly. */
    static final int MAX_LOOP_STEPS = 1024;
    /** Loop graphs kept across generations (ECAR: one per stage and batch; DiT: one per sampler and batch). */
    static final int LOOP_GRAPHS = 24;

    private final CudaMemory memory;
    private final Stream stream;
    /** The per-step scalars captured kernels read (StepScalars.words()), written before each replay; never moves. */
    private final DeviceBuffer stepScalars;
    /** A captured loop's steps' scalars, slot i for its step i, all written before each replay; never moves. */
    private final DeviceBuffer loopScalars;
    private final StepGraphs<CudaGraph> graphs = new StepGraphs<>();
    private final LoopGraphs<CudaGraph> loops = new LoopGraphs<>(LOOP_GRAPHS);
    /** Non-null while a step is being captured (alone or in a loop): ops read these scalars from the device and refuse host traffic. */
    private StepScalars capturing;
    /** The loop slot the step being captured reads its scalars from, or -1 for a step captured alone ({@link #stepScalars}). */
    private int slot = -1;
    /** The loop being captured, or null. */
    private StepLoop loopCapture;
    /** The loop running eagerly, whose steps are checked against it, or null. */
    private StepLoop eagerLoop;
    private boolean useGraphs = true;

    /**
     * A loop's identity in {@link #loops}: its StepKey with the model held weakly (a cached graph must not keep a model
     * and its device weights alive after the caller dropped it; a collected model's loops can never come again and are
     * forgotten), and its number of steps.
     */
    private static final class LoopKey {
        private final java.lang.ref.WeakReference<Object> model;
        private final int modelHash, stage, batch, steps;
        private final String work;
        private final Object variant;

        LoopKey(StepKey key, int steps) {
            this.model = new java.lang.ref.WeakReference<>(key.model());
            this.modelHash = System.identityHashCode(key.model());
            this.work = key.work();
            this.stage = key.stage();
            this.batch = key.batch();
            this.variant = key.variant();
            this.steps = steps;
        }

        boolean gone() {
            return model.get() == null;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof LoopKey k)) return false;
            Object m = model.get();
            return m != null && m == k.model.get() && stage == k.stage && batch == k.batch && steps == k.steps && work.equals(k.work)
                    && java.util.Objects.equals(variant, k.variant);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(modelHash, work, stage, batch, variant, steps);
        }

        @Override
        public String toString() {
            return work + ", stage " + stage + ", batch " + batch + ", " + steps + " steps";
        }
    }

    CudaSteps(CudaMemory memory, Stream stream) {
        this.memory = memory;
        this.stream = stream;
        stepScalars = memory.keep(DeviceBuffer.allocate(4L * StepScalars.WORDS, "step scalars"));
        loopScalars = memory.keep(DeviceBuffer.allocate(4L * StepScalars.WORDS * MAX_LOOP_STEPS, "loop step scalars"));
    }

    /** The scalars of the step being captured, or null outside a capture. */
    StepScalars capturing() {
        return capturing;
    }

    /** See CudaBackend.step; {@code eagerly} runs the body uncaptured, in a scope of its own. */
    void step(StepKey key, StepScalars scalars, Runnable body, Runnable eagerly) {
        Check.that(capturing == null, "step", "step " + key + " inside the capture of another step; steps do not nest");
        Check.that(memory.depth() > 0, "step", "step " + key + " outside any scope(): a captured step lives until the scope around the "
                + "sampling loop closes; open one there");
        if (loopCapture != null) {   // part of the loop's graph, reading its scalars from the loop's slot
            slot = loopCapture.step(scalars);
            capturing = scalars;
            try {
                eagerly.run();
            } finally {
                capturing = null;
                slot = -1;
            }
            return;
        }
        if (eagerLoop != null) eagerLoop.step(scalars);
        if (!useGraphs) {
            eagerly.run();
            return;
        }
        switch (graphs.next(key)) {
            case EAGER -> {
                eagerly.run();
                graphs.ranEagerly(key, memory.depth());
            }
            case CAPTURE -> {
                CudaGraph g = capture(key, scalars, body);
                graphs.captured(key, memory.depth(), g);
                replay(g, scalars);
            }
            case REPLAY -> replay(graphs.graph(key), scalars);
        }
    }

    /**
     * See CudaBackend.loop; {@code eagerly} runs the body uncaptured in a scope of its own (its steps may still be
     * captured one by one). A loop is captured on its second run and replayed from its third, in later generations,
     * where the arena's layout at its entry is the one it was captured with.
     */
    void loop(StepKey key, List<StepScalars> scalars, Runnable body, Runnable eagerly) {
        Check.that(capturing == null && loopCapture == null && eagerLoop == null, "loop", "loop " + key + " inside a step or another loop; loops do not nest");
        Check.that(memory.depth() > 0, "loop", "loop " + key + " outside any scope(); open one around it");
        StepLoop contract = new StepLoop(key, scalars);
        closeAll(loops.forget(o -> ((LoopKey) o).gone()));
        LoopKey k = new LoopKey(key, scalars.size());
        long layout = memory.arena().ledger().layoutFingerprint();
        LoopGraphs.Action action = !useGraphs || scalars.size() > MAX_LOOP_STEPS ? LoopGraphs.Action.EAGER : loops.next(k, layout);
        switch (action) {
            case EAGER -> {
                runEagerly(contract, eagerly);
                if (useGraphs && scalars.size() <= MAX_LOOP_STEPS) closeAll(loops.ranEagerly(k));
            }
            case CAPTURE -> {
                LoopGraphs.Graph<CudaGraph> g;
                try {
                    g = captureLoop(key, layout, contract, body);
                } catch (RuntimeException e) {
                    // Nothing ran during the capture and the stream is out of capture mode again: the loop runs eagerly,
                    // now and from now on (a loop that breaks the capture rules fails CaptureRulesTest on the CPU).
                    closeAll(loops.refused(k));
                    System.err.println("[ecar] loop " + key + ": its CUDA graph capture failed (" + e.getMessage() + "); it runs eagerly from now on");
                    runEagerly(contract, eagerly);
                    return;
                }
                closeAll(loops.captured(k, g));
                replayLoop(key, g, scalars);
            }
            case REPLAY -> replayLoop(key, loops.graph(k), scalars);
        }
    }

    private void runEagerly(StepLoop contract, Runnable eagerly) {
        StepLoop fresh = new StepLoop(contract.key(), contract.steps());
        eagerLoop = fresh;
        try {
            eagerly.run();
            fresh.finish();
        } finally {
            eagerLoop = null;
        }
    }

    /** Whether the loop's capture failed once and it runs eagerly (tests). */
    boolean loopRefused(StepKey key, int steps) {
        return loops.isRefused(new LoopKey(key, steps));
    }

    void useGraphs(boolean on) {
        useGraphs = on;
    }

    boolean graphsOn() {
        return useGraphs;
    }

    /** Destroys the graphs captured inside the scope at {@code level} (0: all of them, the loops' too: the backend closes). */
    void closeLevel(int level) {
        closeAll(graphs.closeLevel(level));
        if (level == 0) closeAll(loops.clear());
    }

    private static void closeAll(List<CudaGraph> gs) {
        for (CudaGraph g : gs) g.close();
    }

    private CudaGraph capture(StepKey key, StepScalars scalars, Runnable body) {
        DeviceArena arena = memory.arena();
        ArenaLedger.Mark m = arena.mark();
        arena.ledger().startWindow();
        capturing = scalars;
        memory.enter();   // the body allocates from the arena, as inside a scope, even where the caller opened none
        CudaGraph g;
        try {
            g = CudaGraph.capture(stream, body);
        } finally {
            capturing = null;
            memory.leave();
            arena.reset(m);
        }
        long region = arena.ledger().windowPeak() - m.top();
        if (region > 0) memory.reserve(region, "captured step " + key);   // starts at m.top: the range the capture used
        return g;
    }

    /** Captures the loop's body (which checks its steps against the contract); the arena is as before when it returns. */
    private LoopGraphs.Graph<CudaGraph> captureLoop(StepKey key, long layout, StepLoop contract, Runnable body) {
        DeviceArena arena = memory.arena();
        ArenaLedger.Mark m = arena.mark();
        arena.ledger().startWindow();
        loopCapture = contract;
        memory.enter();
        CudaGraph g;
        try {
            g = CudaGraph.capture(stream, () -> {
                body.run();
                contract.finish();
            });
        } finally {
            loopCapture = null;
            memory.leave();
            arena.reset(m);
        }
        return new LoopGraphs.Graph<>(g, layout, m.top(), arena.ledger().windowPeak() - m.top());
    }

    /**
     * Writes every step's scalars and launches the loop's graph on the arena range its capture used, which is free again
     * once the launch is queued: later work on the stream runs after the graph (the rule scopes rely on).
     */
    private void replayLoop(StepKey key, LoopGraphs.Graph<CudaGraph> g, List<StepScalars> scalars) {
        DeviceArena arena = memory.arena();
        ArenaLedger.Mark m = arena.mark();
        if (m.top() != g.regionOffset()) {
            throw new IllegalStateException("loop " + key + ": its graph's scratch starts at arena offset " + g.regionOffset() + " but the arena's top is "
                    + m.top() + " with the same layout; expected them equal");
        }
        int[] words = new int[StepScalars.WORDS * scalars.size()];
        for (int i = 0; i < scalars.size(); i++) System.arraycopy(scalars.get(i).words(), 0, words, i * StepScalars.WORDS, StepScalars.WORDS);
        loopScalars.upload(words, stream);   // stream-ordered: the previous replay of any loop has read its values
        if (g.regionBytes() > 0) memory.reserve(g.regionBytes(), "captured loop " + key);
        try {
            g.graph().launch(stream);
        } finally {
            arena.reset(m);
        }
    }

    private void replay(CudaGraph g, StepScalars scalars) {
        stepScalars.upload(scalars.words(), stream);   // stream-ordered: the previous replay has read its values
        g.launch(stream);
    }

    /** Word {@code w} of the step-scalar buffer onwards (the loop slot's, inside a captured loop), as a kernel's device-scalar operand. */
    DeviceBuffer scalar(int w) {
        if (slot < 0) return stepScalars.slice(4L * w, 4L * (StepScalars.WORDS - w), "step scalars from word " + w);
        long at = 4L * ((long) slot * StepScalars.WORDS + w);
        return loopScalars.slice(at, 4L * (StepScalars.WORDS - w), "loop step " + slot + " scalars from word " + w);
    }

    /** Inside a capture, host data would be baked into the graph (or the copy would break the capture). */
    void noHostTraffic(String op) {
        if (capturing != null) {
            throw new IllegalStateException(op + " inside a captured step: it moves host data, which a replay would not repeat; "
                    + "do it before the step (or pass the value in StepScalars)");
        }
        if (loopCapture != null) {
            throw new IllegalStateException(op + " inside captured loop " + loopCapture.key() + ": it moves host data, which a replay would not "
                    + "repeat; do it before the loop (or pass the value in StepScalars)");
        }
    }

    /** A captured kernel reads the step's value; the body must have passed that same value. */
    static void stepValue(String op, String what, float given, float stepValue) {
        Check.that(StepScalars.same(given, stepValue), op, what + " " + given + " inside a captured step whose " + what + " is " + stepValue
                + "; pass the step's StepScalars value");
    }

    void stepCoefficients(String op, DiffusionCoefficients k) {
        Check.that(k.equals(capturing.diffusion()), op, "coefficients " + k + " inside a captured step whose coefficients are "
                + capturing.diffusion() + "; pass the step's StepScalars value");
    }
}
