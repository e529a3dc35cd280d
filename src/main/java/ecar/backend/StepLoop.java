package ecar.backend;

import java.util.List;

/**
 * The contract of {@link Backend#loop}, checked while a loop's body runs: the body makes exactly one
 * {@link Backend#step} per declared {@link StepScalars}, in order and with those values. A backend that captures the
 * loop writes all the declared values before each replay and does not run the body, so a body that strayed from them
 * would be replayed wrongly; this makes it fail on every backend instead. Pure logic.
 */
public final class StepLoop {
    private final StepKey key;
    private final List<StepScalars> steps;
    private int next;

    public StepLoop(StepKey key, List<StepScalars> steps) {
        Check.that(key != null && steps != null && !steps.isEmpty(), "loop", "a key and at least one step are required");
        this.key = key;
        this.steps = List.copyOf(steps);
    }

    /** Takes the body's next step; returns its index in the loop. */
    public int step(StepScalars scalars) {
        Check.that(next < steps.size(), "loop", "loop " + key + " declared " + steps.size() + " steps; its body ran one more");
        Check.that(steps.get(next).equals(scalars), "loop", "step " + (next + 1) + " of loop " + key + " ran with " + scalars
                + "; the loop declared " + steps.get(next));
        return next++;
    }

    /** After the body: every declared step ran. */
    public void finish() {
        Check.that(next == steps.size(), "loop", "loop " + key + " declared " + steps.size() + " steps; its body ran " + next);
    }

    public StepKey key() {
        return key;
    }

    public List<StepScalars> steps() {
        return steps;
    }
}
