package ecar.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class PhiloxTest {
    /** Known-answer vectors of Random123's kat_vectors for philox4x32-10. */
    @Test
    void matchesRandom123KnownAnswers() {
        assertArrayEquals(new int[]{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, Philox.block(0, 0, 0, 0, 0, 0));
        assertArrayEquals(new int[]{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, Philox.block(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(new int[]{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox.block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    @Test
    void normalsHaveUnitMomentsAndDependOnSeedAndStream() {
        int n = 200_000;
        double sum = 0, sq = 0, fourth = 0;
        for (int i = 0; i < n; i++) {
            double z = Philox.normal(7, 3, i);
            sum += z;
            sq += z * z;
            fourth += z * z * z * z;
        }
        assertEquals(0, sum / n, 0.01);
        assertEquals(1, sq / n, 0.01);
        assertEquals(3, fourth / n, 0.05);
        assertEquals(Philox.normal(7, 3, 123), Philox.normal(7, 3, 123));
        assertNotEquals(Philox.normal(7, 3, 123), Philox.normal(8, 3, 123));
        assertNotEquals(Philox.normal(7, 3, 123), Philox.normal(7, 4, 123));
    }
}
