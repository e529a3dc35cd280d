package ecar.cuda;

import ecar.cuda.TensorMapSpec.DataType;
import ecar.cuda.TensorMapSpec.Interleave;
import ecar.cuda.TensorMapSpec.L2Promotion;
import ecar.cuda.TensorMapSpec.OobFill;
import ecar.cuda.TensorMapSpec.Swizzle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * cuTensorMapEncodeTiled's documented requirements, checked without a GPU: each is met by a descriptor the GEMM uses
 * and broken by one changed argument, and the message names the argument and what was expected. The driver would
 * answer the broken ones with CUDA_ERROR_INVALID_VALUE at best.
 */
class TensorMapSpecTest {
    static final long ADDR = 0x7f0000000000L;

    /** What gemm_sm90 encodes for X of DiT-XL/2 fc1 at batch 64: [16384, 1152] bf16, boxes of 128 rows × 64 columns. */
    static TensorMapSpec ditX() {
        return TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 16384, 1152, 128, 64, Swizzle.B128);
    }

    static TensorMapSpec with(long address, long[] dims, long[] strides, int[] box, int[] es, Interleave il, Swizzle sw, DataType t, OobFill oob) {
        return new TensorMapSpec(t, address, dims, strides, box, es, il, sw, L2Promotion.L2_256B, oob);
    }

    static TensorMapSpec bf16(long address, long[] dims, long[] strides, int[] box, Swizzle sw) {
        int[] es = new int[dims.length];
        java.util.Arrays.fill(es, 1);
        return with(address, dims, strides, box, es, Interleave.NONE, sw, DataType.BFLOAT16, OobFill.NONE);
    }

    static String message(Supplier<TensorMapSpec> s) {
        String m = assertThrows(IllegalArgumentException.class, s::get).getMessage();
        assertTrue(m.startsWith("cuTensorMapEncodeTiled: "), m);
        return m;
    }

    @Test
    void theGemmOperandLayout() {
        TensorMapSpec s = ditX();
        assertEquals(2, s.rank());
        assertArrayEquals(new long[]{1152, 16384}, s.globalDim());
        assertArrayEquals(new long[]{2304}, s.globalStrides());
        assertArrayEquals(new int[]{64, 128}, s.boxDim());
        assertArrayEquals(new int[]{1, 1}, s.elementStrides());
        assertEquals(16384, s.boxBytes(), "the bytes one copy completes on the stage's mbarrier (gemm_sm90's STAGE_BYTES / 2)");
        assertEquals(3, s.swizzle().code);
        assertEquals(9, s.dataType().code);
        assertEquals(0, s.oobFill().code, "out-of-bounds elements read as zeros");
        // ragged shapes the kernel takes: K not a multiple of 64 (the box overhangs), fewer rows than a box
        TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 85, 1000, 128, 64, Swizzle.B128);
        TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 1, 8, 128, 64, Swizzle.B128);
    }

    @Test
    void driverEnumCodes() {
        assertEquals(7, DataType.FLOAT32.code);
        assertEquals(6, DataType.FLOAT16.code);
        assertEquals(12, DataType.TFLOAT32_FTZ.code);
        assertEquals(0, Swizzle.NONE.code);
        assertEquals(2, Swizzle.B64.code);
        assertEquals(2, Interleave.B32.code);
        assertEquals(3, L2Promotion.L2_256B.code);
        assertEquals(1, OobFill.NAN_REQUEST_ZERO_FMA.code);
    }

    @Test
    void globalAddressIsNonNullAnd16ByteAligned() {
        assertTrue(message(() -> TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR + 8, 16, 64, 16, 64, Swizzle.B128)).contains("not 16-byte aligned"));
        assertTrue(message(() -> TensorMapSpec.rowMajor(DataType.BFLOAT16, 0, 16, 64, 16, 64, Swizzle.B128)).contains("globalAddress is null"));
        // 32-byte interleave wants 32 (rank ≥ 3, strides multiples of 32, swizzle 32B)
        String m = message(() -> with(ADDR + 16, new long[]{16, 4, 4}, new long[]{64, 256}, new int[]{16, 4, 4}, new int[]{1, 1, 1},
                Interleave.B32, Swizzle.B32, DataType.BFLOAT16, OobFill.NONE));
        assertTrue(m.contains("32-byte aligned"), m);
        with(ADDR + 32, new long[]{16, 4, 4}, new long[]{64, 256}, new int[]{16, 4, 4}, new int[]{1, 1, 1}, Interleave.B32, Swizzle.B32, DataType.BFLOAT16, OobFill.NONE);
    }

    @Test
    void rankIsOneToFiveAndAtLeastThreeWhenInterleaved() {
        String m = message(() -> bf16(ADDR, new long[]{8, 2, 2, 2, 2, 2}, new long[]{16, 32, 64, 128, 256}, new int[]{8, 2, 2, 2, 2, 2}, Swizzle.NONE));
        assertTrue(m.contains("tensorRank = 6") && m.contains("1..5"), m);
        assertTrue(message(() -> bf16(ADDR, new long[0], new long[0], new int[0], Swizzle.NONE)).contains("tensorRank = 0"));
        m = message(() -> with(ADDR, new long[]{8, 8}, new long[]{16}, new int[]{8, 8}, new int[]{1, 1}, Interleave.B16, Swizzle.NONE, DataType.BFLOAT16, OobFill.NONE));
        assertTrue(m.contains("at least 3"), m);
        bf16(ADDR, new long[]{64}, new long[0], new int[]{64}, Swizzle.B128);   // rank 1: no strides
        bf16(ADDR, new long[]{8, 2, 2, 2, 2}, new long[]{16, 32, 64, 128}, new int[]{8, 2, 2, 2, 2}, Swizzle.NONE);
    }

    @Test
    void globalDimsAreOneTo2Pow32() {
        assertTrue(message(() -> TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 0, 64, 16, 64, Swizzle.B128)).contains("globalDim[1] = 0"));
        String m = message(() -> bf16(ADDR, new long[]{(1L << 32) + 8}, new long[0], new int[]{64}, Swizzle.NONE));
        assertTrue(m.contains("globalDim[0]") && m.contains("2^32"), m);
        bf16(ADDR, new long[]{1L << 32}, new long[0], new int[]{64}, Swizzle.NONE);
    }

    @Test
    void stridesAreMultiplesOf16Below2Pow40AndCoverTheDimensionsBelow() {
        // K = 1156 bf16: a row pitch of 2312 bytes is not a multiple of 16 (why the GEMM needs K % 8 == 0)
        String m = message(() -> TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 16, 1156, 16, 64, Swizzle.B128));
        assertTrue(m.contains("globalStrides[0] = 2312") && m.contains("multiple of 16"), m);
        m = message(() -> bf16(ADDR, new long[]{8, 4}, new long[]{1L << 40}, new int[]{8, 4}, Swizzle.NONE));
        assertTrue(m.contains("below 2^40"), m);
        bf16(ADDR, new long[]{8, 4}, new long[]{(1L << 40) - 16}, new int[]{8, 4}, Swizzle.NONE);
        m = message(() -> bf16(ADDR, new long[]{64, 4}, new long[]{64}, new int[]{64, 4}, Swizzle.B128));
        assertTrue(m.contains("globalStrides[0] = 64") && m.contains("128 bytes of the dimensions below"), m);
        m = message(() -> bf16(ADDR, new long[]{64, 4, 2}, new long[]{128, 256}, new int[]{64, 4, 2}, Swizzle.B128));
        assertTrue(m.contains("globalStrides[1] = 256") && m.contains("512 bytes"), m);
        m = message(() -> bf16(ADDR, new long[]{64, 4}, new long[]{128, 512}, new int[]{64, 4}, Swizzle.B128));
        assertTrue(m.contains("2 globalStrides for rank 2") && m.contains("rank - 1 = 1"), m);
        // padded rows are fine
        bf16(ADDR, new long[]{60, 4}, new long[]{128}, new int[]{64, 4}, Swizzle.B128);
    }

    @ParameterizedTest(name = "boxDim {0}")
    @ValueSource(ints = {0, 257})
    void boxDimsAreOneTo256(int bad) {
        String m = message(() -> TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 1024, 1024, bad, 64, Swizzle.B128));
        assertTrue(m.contains("boxDim[1] = " + bad) && m.contains("1..256"), m);
    }

    @Test
    void boxInnerBytesAreAMultipleOf16AndWithinTheSwizzleSpan() {
        String m = message(() -> TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 256, 1024, 128, 12, Swizzle.NONE));
        assertTrue(m.contains("boxDim[0] = 12") && m.contains("24 bytes") && m.contains("multiple of 16"), m);
        // 128 bf16 = 256 bytes: twice the 128-byte swizzle span (why gemm_sm90's k box is 64)
        m = message(() -> TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 256, 1024, 128, 128, Swizzle.B128));
        assertTrue(m.contains("256 bytes") && m.contains("128-byte span"), m);
        m = message(() -> TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 256, 1024, 128, 64, Swizzle.B64));
        assertTrue(m.contains("64-byte span"), m);
        m = message(() -> TensorMapSpec.rowMajor(DataType.FLOAT32, ADDR, 256, 1024, 128, 16, Swizzle.B32));
        assertTrue(m.contains("32-byte span"), m);
        TensorMapSpec.rowMajor(DataType.FLOAT32, ADDR, 256, 1024, 128, 32, Swizzle.B128);
        TensorMapSpec.rowMajor(DataType.BFLOAT16, ADDR, 256, 1024, 128, 128, Swizzle.NONE);   // no swizzle: no span limit
    }

    @Test
    void elementStridesAreOneToEight() {
        String m = message(() -> with(ADDR, new long[]{64, 8}, new long[]{128}, new int[]{64, 8}, new int[]{1, 9},
                Interleave.NONE, Swizzle.B128, DataType.BFLOAT16, OobFill.NONE));
        assertTrue(m.contains("elementStrides[1] = 9") && m.contains("1..8"), m);
        m = message(() -> with(ADDR, new long[]{64, 8}, new long[]{128}, new int[]{64, 8}, new int[]{0, 1},
                Interleave.NONE, Swizzle.B128, DataType.BFLOAT16, OobFill.NONE));
        assertTrue(m.contains("elementStrides[0] = 0"), m);
        m = message(() -> with(ADDR, new long[]{64, 8}, new long[]{128}, new int[]{64, 8}, new int[]{1},
                Interleave.NONE, Swizzle.B128, DataType.BFLOAT16, OobFill.NONE));
        assertTrue(m.contains("1 elementStrides for rank 2"), m);
    }

    @Test
    void interleaveAndOobFillCombinations() {
        String m = message(() -> with(ADDR, new long[]{16, 4, 4}, new long[]{64, 256}, new int[]{16, 4, 4}, new int[]{1, 1, 1},
                Interleave.B32, Swizzle.B128, DataType.BFLOAT16, OobFill.NONE));
        assertTrue(m.contains("interleave B32 requires swizzle B32"), m);
        m = message(() -> with(ADDR, new long[]{16, 4}, new long[]{64}, new int[]{16, 4}, new int[]{1, 1},
                Interleave.NONE, Swizzle.NONE, DataType.INT32, OobFill.NAN_REQUEST_ZERO_FMA));
        assertTrue(m.contains("NAN_REQUEST_ZERO_FMA") && m.contains("INT32"), m);
        with(ADDR, new long[]{16, 4}, new long[]{64}, new int[]{16, 4}, new int[]{1, 1}, Interleave.NONE, Swizzle.NONE, DataType.FLOAT32, OobFill.NAN_REQUEST_ZERO_FMA);
    }

    @Test
    void arraysAreCopiedInAndOut() {
        long[] dims = {64, 4};
        TensorMapSpec s = bf16(ADDR, dims, new long[]{128}, new int[]{64, 4}, Swizzle.B128);
        dims[0] = 0;
        assertEquals(64, s.globalDim()[0]);
        s.globalDim()[0] = 0;
        assertEquals(64, s.globalDim()[0]);
        assertEquals(s, bf16(ADDR, new long[]{64, 4}, new long[]{128}, new int[]{64, 4}, Swizzle.B128));
        assertTrue(message(() -> with(ADDR, null, new long[]{128}, new int[]{64, 4}, new int[]{1, 1}, Interleave.NONE, Swizzle.B128,
                DataType.BFLOAT16, OobFill.NONE)).contains("must all be given"));
    }
}
