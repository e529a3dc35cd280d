package ecar.cuda;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The captured-step bookkeeping without a GPU: eager once, capture once, then replay, until the scope closes. */
class StepGraphsTest {
    record Fake(String name) implements AutoCloseable {
        @Override
        public void close() {}
    }

    @Test
    void aStepRunsEagerlyThenIsCapturedThenReplayed() {
        StepGraphs<Fake> g = new StepGraphs<>();
        assertEquals(StepGraphs.Action.EAGER, g.next("k"));
        g.ranEagerly("k", 1);
        assertEquals(StepGraphs.Action.CAPTURE, g.next("k"));
        Fake f = new Fake("k");
        g.captured("k", 1, f);
        assertEquals(StepGraphs.Action.REPLAY, g.next("k"));
        assertSame(f, g.graph("k"));
        assertEquals(StepGraphs.Action.EAGER, g.next("other"), "keys are independent");
    }

    @Test
    void closingAScopeReleasesItsGraphsAndThoseOfDeeperScopesOnly() {
        StepGraphs<Fake> g = new StepGraphs<>();
        Fake outer = new Fake("outer"), inner = new Fake("inner");
        g.ranEagerly("outer", 1);
        g.captured("outer", 1, outer);
        g.ranEagerly("inner", 2);
        g.captured("inner", 2, inner);
        g.ranEagerly("seen", 3);
        assertEquals(List.of(inner), g.closeLevel(2));
        assertEquals(StepGraphs.Action.EAGER, g.next("inner"), "a closed scope's step starts over (its inputs moved)");
        assertEquals(StepGraphs.Action.EAGER, g.next("seen"));
        assertEquals(StepGraphs.Action.REPLAY, g.next("outer"));
        assertEquals(List.of(outer), g.closeLevel(1));
        assertEquals(0, g.size());
    }

    @Test
    void misuseIsReported() {
        StepGraphs<Fake> g = new StepGraphs<>();
        assertTrue(assertThrows(IllegalStateException.class, () -> g.captured("k", 1, new Fake("k"))).getMessage().contains("before its eager run"));
        g.ranEagerly("k", 1);
        assertThrows(IllegalStateException.class, () -> g.ranEagerly("k", 1));
        assertThrows(IllegalStateException.class, () -> g.graph("k"));
        g.captured("k", 1, new Fake("k"));
        assertTrue(assertThrows(IllegalStateException.class, () -> g.captured("k", 1, new Fake("k"))).getMessage().contains("twice"));
    }
}
