package ecar.cuda;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The bookkeeping of loop graphs kept across generations (LoopGraphs), without a GPU. */
class LoopGraphsTest {
    /** A graph stand-in that counts its closes. */
    static final class Fake implements AutoCloseable {
        final String name;
        int closed;

        Fake(String name) {
            this.name = name;
        }

        @Override
        public void close() {
            closed++;
        }
    }

    private static LoopGraphs.Graph<Fake> graph(String name, long layout) {
        return new LoopGraphs.Graph<>(new Fake(name), layout, 4096, 1 << 20);
    }

    @Test
    void aLoopRunsEagerlyThenIsCapturedThenReplaysWhereTheLayoutIsTheSame() {
        LoopGraphs<Fake> loops = new LoopGraphs<>(4);
        assertEquals(LoopGraphs.Action.EAGER, loops.next("stage 0", 7));
        assertEquals(List.of(), loops.ranEagerly("stage 0"));
        assertEquals(LoopGraphs.Action.CAPTURE, loops.next("stage 0", 7));
        assertEquals(List.of(), loops.captured("stage 0", graph("g", 7)));
        assertEquals(LoopGraphs.Action.REPLAY, loops.next("stage 0", 7));
        assertEquals("g", loops.graph("stage 0").graph().name);
        assertEquals(LoopGraphs.Action.EAGER, loops.next("stage 1", 7), "another key is unseen");
    }

    @Test
    void aMovedLayoutIsCapturedAgainAndTheStaleGraphDestroyed() {
        LoopGraphs<Fake> loops = new LoopGraphs<>(4);
        loops.ranEagerly("k");
        LoopGraphs.Graph<Fake> first = graph("first", 1);
        loops.captured("k", first);
        assertEquals(LoopGraphs.Action.CAPTURE, loops.next("k", 2), "the arena holds other tensors: the baked addresses are stale");
        List<Fake> destroy = loops.captured("k", graph("second", 2));
        assertEquals(List.of(first.graph()), destroy);
        assertEquals(LoopGraphs.Action.REPLAY, loops.next("k", 2));
        assertEquals(LoopGraphs.Action.CAPTURE, loops.next("k", 1), "only the latest layout is kept");
    }

    @Test
    void theLeastRecentlyUsedLoopGoesFirst() {
        LoopGraphs<Fake> loops = new LoopGraphs<>(2);
        loops.ranEagerly("a");
        LoopGraphs.Graph<Fake> a = graph("a", 0);
        loops.captured("a", a);
        loops.ranEagerly("b");
        assertEquals(LoopGraphs.Action.REPLAY, loops.next("a", 0));   // a is now the most recently used
        List<Fake> evicted = loops.ranEagerly("c");
        assertEquals(List.of(), evicted, "b (seen, no graph) was the eldest: nothing to destroy");
        assertEquals(LoopGraphs.Action.EAGER, loops.next("b", 0));
        assertEquals(LoopGraphs.Action.REPLAY, loops.next("a", 0));
        loops.ranEagerly("d");   // c is now the eldest
        assertEquals(2, loops.size());
        assertEquals(List.of(a.graph()), loops.clear());
        assertEquals(0, loops.size());
    }

    @Test
    void aLoopWhoseCaptureFailedRunsEagerlyForGoodAndIsNeverEvicted() {
        LoopGraphs<Fake> loops = new LoopGraphs<>(1);
        loops.ranEagerly("bad");
        assertEquals(LoopGraphs.Action.CAPTURE, loops.next("bad", 0));
        assertEquals(List.of(), loops.refused("bad"));
        assertEquals(LoopGraphs.Action.EAGER, loops.next("bad", 0));
        assertEquals(List.of(), loops.ranEagerly("bad"), "an eager run does not make it a capture candidate again");
        assertEquals(LoopGraphs.Action.EAGER, loops.next("bad", 0));
        loops.ranEagerly("a");
        loops.ranEagerly("b");   // capacity 1: a goes, bad stays
        assertEquals(LoopGraphs.Action.EAGER, loops.next("a", 0));
        assertEquals(true, loops.isRefused("bad"));
        LoopGraphs.Graph<Fake> g = graph("g", 0);
        loops.captured("b", g);
        assertEquals(List.of(g.graph()), loops.refused("b"), "a graph it had is handed back to destroy");
        assertEquals(List.of(), loops.clear(), "refused loops hold no graph");
    }

    @Test
    void loopsThatCanNeverComeAgainAreForgottenWithTheirGraphs() {
        LoopGraphs<Fake> loops = new LoopGraphs<>(8);
        loops.ranEagerly("gone a");
        LoopGraphs.Graph<Fake> g = graph("g", 0);
        loops.captured("gone a", g);
        loops.ranEagerly("gone b");
        loops.ranEagerly("kept");
        loops.refused("gone c");
        assertEquals(List.of(g.graph()), loops.forget(k -> ((String) k).startsWith("gone")));
        assertEquals(1, loops.size());
        assertEquals(LoopGraphs.Action.CAPTURE, loops.next("kept", 0));
    }

    @Test
    void outOfOrderCallsAreRefused() {
        LoopGraphs<Fake> loops = new LoopGraphs<>(2);
        assertThrows(IllegalStateException.class, () -> loops.captured("x", graph("x", 0)), "a capture before the eager run");
        assertThrows(IllegalStateException.class, () -> loops.graph("x"));
        loops.ranEagerly("x");
        loops.captured("x", graph("x", 0));
        assertThrows(IllegalStateException.class, () -> loops.ranEagerly("x"), "an eager run of a captured loop");
        assertThrows(IllegalArgumentException.class, () -> new LoopGraphs<Fake>(0));
    }
}
