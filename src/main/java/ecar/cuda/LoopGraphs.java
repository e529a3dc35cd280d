package ecar.cuda;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bookkeeping of captured sampling loops (Backend.loop), without the device. Unlike a step's graph, a loop's graph
 * outlives the generation that captured it: a loop runs once per generation, so only the next generations can replay
 * it. A graph has its addresses baked in, so it is replayed only where the arena holds what it held at the capture
 * ({@link ArenaLedger#layoutFingerprint()}); elsewhere the loop is captured again. Per key: never seen → run eagerly
 * (it fills the lazy caches, whose uploads cannot be captured); seen → capture; captured → replay; a capture that
 * failed → eagerly for good. At most {@code capacity} keys are kept (the refused ones besides), the least recently
 * used going first. Pure logic, tested without a GPU.
 *
 * @param <G> the graph type (CudaGraph on a GPU; anything closeable in tests)
 */
public final class LoopGraphs<G extends AutoCloseable> {
    public enum Action { EAGER, CAPTURE, REPLAY }

    /**
     * A loop's graph and where it may run: the arena's layout at the loop's entry, and the arena range [offset,
     * offset + bytes) its capture used, which a replay takes again (at the same offset, as the layout is the same) and
     * hands back when it has launched.
     */
    public record Graph<G>(G graph, long layout, long regionOffset, long regionBytes) {}

    /** Marks a loop whose capture failed: it runs eagerly from then on (never evicted, so it is not tried again). */
    private static final Graph<?> REFUSED = new Graph<>(null, 0, 0, 0);

    private final int capacity;
    /** Access-ordered: the eldest entry is the least recently used. A null graph: seen once, not captured. */
    private final LinkedHashMap<Object, Graph<G>> entries = new LinkedHashMap<>(16, 0.75f, true);

    public LoopGraphs(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("loop graph cache of " + capacity + " entries; expected at least 1");
        this.capacity = capacity;
    }

    /** What to do with the loop {@code key} entered with the arena at {@code layout}. */
    public Action next(Object key, long layout) {
        if (!entries.containsKey(key)) return Action.EAGER;
        Graph<G> g = entries.get(key);
        if (g == null) return Action.CAPTURE;
        if (g == REFUSED) return Action.EAGER;
        return g.layout() == layout ? Action.REPLAY : Action.CAPTURE;
    }

    /** The loop ran eagerly (whole); its next run is captured. Returns graphs evicted to make room, to destroy. */
    public List<G> ranEagerly(Object key) {
        if (entries.get(key) == REFUSED) return List.of();
        if (entries.get(key) != null) throw new IllegalStateException("loop " + key + " has a graph; expected a capture or a replay");
        entries.put(key, null);
        return evict();
    }

    /** The loop's new graph; returns the graphs to destroy (the one it replaces, if its layout moved, and evicted ones). */
    public List<G> captured(Object key, Graph<G> graph) {
        if (!entries.containsKey(key)) throw new IllegalStateException("loop " + key + " captured before its eager run");
        List<G> out = new ArrayList<>();
        Graph<G> old = entries.put(key, graph);
        if (old != null) out.add(old.graph());
        out.addAll(evict());
        return out;
    }

    /** The loop's capture failed: it runs eagerly from now on. Returns the graph it had, if any, to destroy. */
    @SuppressWarnings("unchecked")
    public List<G> refused(Object key) {
        Graph<G> old = entries.put(key, (Graph<G>) REFUSED);
        return old == null || old == REFUSED ? List.of() : List.of(old.graph());
    }

    /** Whether the loop's capture failed once (it runs eagerly). */
    public boolean isRefused(Object key) {
        return entries.get(key) == REFUSED;
    }

    public Graph<G> graph(Object key) {
        Graph<G> g = entries.get(key);
        if (g == null) throw new IllegalStateException("loop " + key + " has no captured graph");
        return g;
    }

    /**
     * Forgets the loops whose key {@code gone} says can never come again (their model was collected); returns their
     * graphs to destroy.
     */
    public List<G> forget(java.util.function.Predicate<Object> gone) {
        List<G> out = new ArrayList<>();
        for (Iterator<Map.Entry<Object, Graph<G>>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Object, Graph<G>> e = it.next();
            if (!gone.test(e.getKey())) continue;
            if (e.getValue() != null && e.getValue() != REFUSED) out.add(e.getValue().graph());
            it.remove();
        }
        return out;
    }

    /** Forgets every loop; returns their graphs to destroy. */
    public List<G> clear() {
        List<G> out = new ArrayList<>();
        for (Graph<G> g : entries.values()) if (g != null && g != REFUSED) out.add(g.graph());
        entries.clear();
        return out;
    }

    /** Loops known (run once or captured). */
    public int size() {
        return entries.size();
    }

    private List<G> evict() {
        List<G> out = new ArrayList<>();
        long refused = entries.values().stream().filter(g -> g == REFUSED).count();
        for (Iterator<Map.Entry<Object, Graph<G>>> it = entries.entrySet().iterator(); entries.size() - refused > capacity && it.hasNext(); ) {
            Graph<G> g = it.next().getValue();
            if (g == REFUSED) continue;   // remembered for good, beside the capacity: its capture would fail again
            if (g != null) out.add(g.graph());
            it.remove();
        }
        return out;
    }
}
