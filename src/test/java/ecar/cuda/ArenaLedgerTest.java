package ecar.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArenaLedgerTest {
    @Test
    void theLayoutFingerprintChangesWithAnyLiveAllocationAndReturnsWithTheLayout() {
        ArenaLedger a = new ArenaLedger("t", 1 << 20, 256);
        assertNotEquals(a.layoutFingerprint(), ((java.util.function.LongSupplier) () -> {
            ArenaLedger b = new ArenaLedger("t", 1 << 20, 256);
            b.allocate(256, "x");
            return b.layoutFingerprint();
        }).getAsLong());
        a.allocate(512, "labels");   // a generation's first tensor, below the marks
        long empty = a.layoutFingerprint();
        ArenaLedger.Mark m = a.mark();
        a.allocate(100, "state");
        long one = a.layoutFingerprint();
        a.allocate(300, "cache");
        long two = a.layoutFingerprint();
        a.reset(m);
        assertEquals(empty, a.layoutFingerprint(), "the same layout");
        a.allocate(100, "state again");
        assertEquals(one, a.layoutFingerprint(), "labels do not matter, offsets and sizes do");
        a.allocate(300, "cache again");
        assertEquals(two, a.layoutFingerprint());
        a.reset(m);
        a.allocate(300, "bigger first");
        a.allocate(100, "smaller second");
        assertNotEquals(two, a.layoutFingerprint(), "the same sizes in another order are another layout");
        a.reset(m);
        a.allocate(101, "one byte more, same aligned top");
        assertNotEquals(one, a.layoutFingerprint(), "the same top but another size");
        assertNotEquals(empty, one);
        assertNotEquals(one, two);
    }

    @Test
    void alignsEveryOffset() {
        ArenaLedger a = new ArenaLedger("t", 4096, 256);
        assertEquals(0, a.allocate(1, "a"));
        assertEquals(256, a.allocate(300, "b"));
        assertEquals(768, a.allocate(256, "c"));
        assertEquals(1024, a.used());
        assertEquals(0, ArenaLedger.alignUp(0, 256));
        assertEquals(512, ArenaLedger.alignUp(257, 256));
    }

    @Test
    void marksRollBackAndNest() {
        ArenaLedger a = new ArenaLedger("t", 1 << 20, 256);
        a.allocate(1000, "weights");
        ArenaLedger.Mark outer = a.mark();
        a.allocate(10, "x");
        ArenaLedger.Mark inner = a.mark();
        a.allocate(10, "y");
        a.reset(inner);
        assertEquals(2, a.live().size());
        a.reset(outer);
        assertEquals(1024, a.used());
        assertEquals(1, a.live().size());
        assertEquals(1024 + 512, a.highWater());
        // a mark above the top after a deeper reset is stale
        assertThrows(IllegalStateException.class, () -> a.reset(inner));
        a.resetAll();
        assertThrows(IllegalStateException.class, () -> a.reset(outer));
        assertEquals(0, a.used());
    }

    /** What failed on the H100 (2026-11-27): a scope opened on an empty arena inside another invalidated the outer one. */
    @Test
    void marksOfAnEmptyArenaNestAndAStaleMarkIsCaughtAfterReallocation() {
        ArenaLedger a = new ArenaLedger("t", 1 << 20, 256);
        ArenaLedger.Mark outer = a.mark(), inner = a.mark();
        a.allocate(10, "x");
        a.reset(inner);
        a.allocate(10, "y");
        a.reset(outer);
        assertEquals(0, a.used());
        // a mark whose last allocation was freed and replaced by another one of the same size is stale
        a.allocate(10, "a");
        ArenaLedger.Mark afterA = a.mark();
        a.resetAll();
        a.allocate(10, "b");
        assertEquals(afterA.top(), a.used(), "same top and count as at the mark");
        String msg = assertThrows(IllegalStateException.class, () -> a.reset(afterA)).getMessage();
        assertTrue(msg.contains("no longer valid"), msg);
    }

    @Test
    void outOfMemorySaysHowMuchIsNeeded() {
        ArenaLedger a = new ArenaLedger("acts", 1024, 256);
        a.allocate(800, "big");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.allocate(300, "more"));
        assertTrue(e.getMessage().contains("'more' needs 300 bytes") && e.getMessage().contains("at least 1536 bytes"), e.getMessage());
    }

    @Test
    void lockForbidsAllocationInsideLoops() {
        ArenaLedger a = new ArenaLedger("acts", 1 << 20, 256);
        a.lock("sampling stage 2");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.allocate(4, "tmp"));
        assertTrue(e.getMessage().contains("sampling stage 2") && e.getMessage().contains("'tmp'"), e.getMessage());
        a.unlock();
        a.allocate(4, "tmp");
    }

    @Test
    void leakReportNamesLiveAllocations() {
        ArenaLedger a = new ArenaLedger("acts", 1 << 20, 256);
        assertNull(a.leakReport());
        a.allocate(4, "attention scratch");
        String r = a.leakReport();
        assertTrue(r.contains("1 allocations not freed") && r.contains("attention scratch: 4 bytes"), r);
        assertThrows(IllegalArgumentException.class, () -> new ArenaLedger("x", 100, 3));
        assertThrows(IllegalArgumentException.class, () -> a.allocate(0, "empty"));
    }

    @Test
    void theWindowPeakSeesThroughResetsSoACapturedStepCanKeepItsWholeRange() {
        ArenaLedger a = new ArenaLedger("t", 1 << 20, 256);
        a.allocate(1000, "weights");
        ArenaLedger.Mark m = a.mark();
        a.startWindow();
        assertEquals(m.top(), a.windowPeak());
        ArenaLedger.Mark inner = a.mark();
        a.allocate(3000, "scratch of the first op");           // 1024 .. 4096
        a.reset(inner);
        a.allocate(500, "output");                              // 1024 .. 1536
        a.reset(m);
        assertEquals(4096, a.windowPeak(), "the graph baked addresses up to the first op's scratch");
        assertEquals(m.top(), a.allocate(a.windowPeak() - m.top(), "captured step"), "the reservation starts at the mark");
        assertEquals(4096, a.used());
    }
}
