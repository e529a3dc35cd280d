package ecar.backend.cpu;

import ecar.backend.Check;
import ecar.backend.StepLoop;

/**
 * A thread's sampling bookkeeping on the CPU backend: the loop whose contract its steps are checked against, and the
 * first non-finite step watched since the last report. The GPU backend keeps the same on the device (a flag word) and
 * in its captured loops.
 */
final class CpuLoopState {
    private StepLoop loop;
    private int firstNonFinite = -1;

    void begin(StepLoop l) {
        Check.that(loop == null, "loop", "loop " + l.key() + " inside loop " + (loop == null ? "" : loop.key()) + "; loops do not nest");
        loop = l;
    }

    /** After the body, whether it finished or threw: the loop is over. */
    void end(boolean finished) {
        StepLoop l = loop;
        loop = null;
        if (finished) l.finish();
    }

    /** A step is about to run: inside a loop it must be the loop's next. */
    void step(ecar.backend.StepScalars scalars) {
        if (loop != null) loop.step(scalars);
    }

    void nonFinite(int step) {
        firstNonFinite = firstNonFinite < 0 ? step : Math.min(firstNonFinite, step);
    }

    int takeFirstNonFinite() {
        int f = firstNonFinite;
        firstNonFinite = -1;
        return f;
    }
}
