package ecar.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The bookkeeping of captured sampling steps, without the device: per step key, whether the step has run once
 * eagerly (the first run fills the backend's lazy caches, whose uploads cannot be captured), has been captured, and at
 * which scope level, so that closing that scope releases its graphs. Pure logic, tested without a GPU.
 *
 * @param <G> the graph type (CudaGraph on a GPU; anything closeable in tests)
 */
public final class StepGraphs<G extends AutoCloseable> {
    /** What the backend does with a step: run it eagerly, capture it (then launch), or replay its graph. */
    public enum Action { EAGER, CAPTURE, REPLAY }

    private record Entry<G>(int level, G graph) {}

    private final Map<Object, Entry<G>> entries = new HashMap<>();

    public Action next(Object key) {
        Entry<G> e = entries.get(key);
        if (e == null) return Action.EAGER;
        return e.graph() == null ? Action.CAPTURE : Action.REPLAY;
    }

    /** The step ran eagerly inside the scope at {@code level}; its next run is captured. */
    public void ranEagerly(Object key, int level) {
        if (entries.containsKey(key)) throw new IllegalStateException("step " + key + " already ran once; expected a capture or a replay");
        entries.put(key, new Entry<>(level, null));
    }

    /** The step's graph, captured inside the scope at {@code level}; replayed until that scope closes. */
    public void captured(Object key, int level, G graph) {
        Entry<G> e = entries.get(key);
        if (e == null || e.graph() != null) throw new IllegalStateException("step " + key + " captured " + (e == null ? "before its eager run" : "twice"));
        entries.put(key, new Entry<>(level, graph));
    }

    public G graph(Object key) {
        Entry<G> e = entries.get(key);
        if (e == null || e.graph() == null) throw new IllegalStateException("step " + key + " has no captured graph");
        return e.graph();
    }

    /** Forgets the steps of scopes at {@code level} and deeper (they are closing) and returns their graphs to destroy. */
    public List<G> closeLevel(int level) {
        List<G> out = new ArrayList<>();
        for (Iterator<Entry<G>> it = entries.values().iterator(); it.hasNext(); ) {
            Entry<G> e = it.next();
            if (e.level() >= level) {
                if (e.graph() != null) out.add(e.graph());
                it.remove();
            }
        }
        return out;
    }

    /** Steps known (run once or captured). */
    public int size() {
        return entries.size();
    }
}
