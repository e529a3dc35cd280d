package ecar.cuda.backend;

import ecar.backend.Check;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;

import ecar.cuda.ArenaLedger;
import ecar.cuda.CudaGraph;
import ecar.cuda.DeviceArena;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.StepGraphs;
import ecar.cuda.Stream;

/**
 * CudaBackend's captured sampling steps: which step runs eagerly, is captured as a CUDA graph or replayed
 * (StepGraphs), the capture itself and the arena range it keeps, the device buffer of step scalars that captured
 * kernels read, and the guards that keep host traffic and foreign per-step values out of a capture. The CPU backend
 * has no twin: it runs every step eagerly (Backend.step).
 */
final class CudaSteps {
    private final CudaMemory memory;
    private final Stream stream;
    /** The per-step scalars captured kernels read (StepScalars.words()), written before each replay; never moves. */
    private final DeviceBuffer stepScalars;
    private final StepGraphs<CudaGraph> graphs = new StepGraphs<>();
    /** Non-null while a step is being captured: ops read these scalars from {@link #stepScalars} and refuse host traffic. */
    private StepScalars capturing;
    private boolean useGraphs = true;

    CudaSteps(CudaMemory memory, Stream stream) {
        this.memory = memory;
        this.stream = stream;
        stepScalars = memory.keep(DeviceBuffer.allocate(4L * StepScalars.WORDS, "step scalars"));
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

    void useGraphs(boolean on) {
        useGraphs = on;
    }

    /** Destroys the graphs captured inside the scope at {@code level} (0: all of them). */
    void closeLevel(int level) {
        for (CudaGraph g : graphs.closeLevel(level)) g.close();
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
        if (region > 0) arena.allocate(region, "captured step " + key);   // starts at m.top: the range the capture used
        return g;
    }

    private void replay(CudaGraph g, StepScalars scalars) {
        stepScalars.upload(scalars.words(), stream);   // stream-ordered: the previous replay has read its values
        g.launch(stream);
    }

    /** Word {@code w} of the step-scalar buffer onwards, as a kernel's device-scalar operand. */
    DeviceBuffer scalar(int w) {
        return stepScalars.slice(4L * w, 4L * (StepScalars.WORDS - w), "step scalars from word " + w);
    }

    /** Inside a capture, host data would be baked into the graph (or the copy would break the capture). */
    void noHostTraffic(String op) {
        if (capturing != null) {
            throw new IllegalStateException(op + " inside a captured step: it moves host data, which a replay would not repeat; "
                    + "do it before the step (or pass the value in StepScalars)");
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
