package ecar.sampleset;

import ecar.family.SamplingOverrides;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Class lists, the set's order and shards, its key, and the rate display. */
class SetSpecTest {
    @Test
    void classListsParseRangesAndFormatBack() {
        assertArrayEquals(new int[]{1, 5, 10, 11, 12}, ClassList.parse("1, 5,10-12"));
        assertEquals(1000, ClassList.parse("0-999").length);
        assertEquals("0-999", ClassList.format(ClassList.parse("0-999")));
        assertEquals("1,5,10-12", ClassList.format(ClassList.parse("1,5,10-12")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClassList.parse("3,1-4")).getMessage().contains("class 3 is given twice"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClassList.parse("9-2")).getMessage().contains("runs backwards"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClassList.parse("a-b")).getMessage().contains("'a-b' is not a class label"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClassList.parse("-3")).getMessage().contains("'-3' is not a class label"));
    }

    @Test
    void imagesAreClassMajorAndShardsCutThemInOrder() {
        SetSpec s = SetSpec.of("ecar-tiny", 0, SamplingOverrides.NONE, new int[]{207, 360}, 50, 1, 32, 8);
        assertEquals(100, s.images());
        assertEquals(207, s.label(49));
        assertEquals(360, s.label(50));
        assertEquals(4, s.shards());
        ShardPlan last = s.shard(3);
        assertEquals(96, last.firstImage());
        assertArrayEquals(new int[]{360, 360, 360, 360}, last.labels());
        assertArrayEquals(new int[]{96, 97, 98, 99}, last.images());
        assertEquals("shard-00003", last.name());
        assertEquals("000099.png", ShardFiles.png(s, 99));
        assertThrows(IllegalArgumentException.class, () -> s.shard(4));
    }

    @Test
    void theKeyFollowsWhatDecidesTheImagesButNotTheBatch() {
        SetSpec s = SetSpec.of("ecar-tiny", 0, SamplingOverrides.NONE, new int[]{1, 2}, 3, 1, 4, 2);
        assertEquals(SetKey.of(s), SetKey.of(s.withBatch(3)));
        assertNotEquals(SetKey.of(s), SetKey.of(SetSpec.of("ecar-tiny", 0, SamplingOverrides.NONE, new int[]{1, 2}, 3, 2, 4, 2)));
        assertNotEquals(SetKey.of(s), SetKey.of(SetSpec.of("ecar-tiny", 0, SamplingOverrides.NONE.with(ecar.family.SamplingOption.CFG, 2f),
                new int[]{1, 2}, 3, 1, 4, 2)));
    }

    @Test
    void badSetsSayWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SetSpec.of("m", 0, SamplingOverrides.NONE, new int[]{1}, 0, 0, 4, 2))
                .getMessage().contains("--per-class 0 must be positive"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SetSpec.of("m", 0, SamplingOverrides.NONE, new int[]{1}, 1, 0, 5000, 2))
                .getMessage().contains("--shard-size 5000 must be 1 to 4096"));
    }

    @Test
    void throughputGivesTheRateAndTheTimeLeft() {
        Throughput t = new Throughput(100, 0);
        assertEquals("0.00 images/s, ETA --", t.describe(1_000_000_000L));
        t.add(10);
        assertEquals(2.0, t.imagesPerSecond(5_000_000_000L), 1e-9);
        assertEquals("2.00 images/s, ETA 45s", t.describe(5_000_000_000L));
        assertEquals("1h 05m", Throughput.duration(3900));
    }
}
