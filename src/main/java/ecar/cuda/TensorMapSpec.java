package ecar.cuda;

import java.util.Arrays;

/**
 * The arguments of one {@code cuTensorMapEncodeTiled} call (a TMA descriptor of a tiled region), checked against the
 * driver's documented requirements when built, so that a bad descriptor fails here with the parameter named instead of
 * as CUDA_ERROR_INVALID_VALUE from the driver, or as garbage tiles on the device. Pure logic: no GPU, no driver.
 *
 * <p>Dimension 0 is the innermost (contiguous) one: a row-major matrix [rows, cols] has globalDim {cols, rows} and
 * globalStrides {row pitch in bytes} ({@link #rowMajor}). Requirements checked (CUDA driver API, "Tensor Map Object
 * Management", cuTensorMapEncodeTiled): rank 1..5 (at least 3 when interleaved); globalAddress non-zero and 16-byte
 * aligned (32 with 32-byte interleave); every globalDim in 1..2^32; rank − 1 globalStrides, each a multiple of 16
 * (32 with 32-byte interleave) and below 2^40, each covering the dimensions below it (globalStrides[0] ≥ globalDim[0] ×
 * element size, globalStrides[i] ≥ globalStrides[i−1] × globalDim[i]); boxDim in 1..256 with boxDim[0] × element size
 * a multiple of 16 bytes when not interleaved; elementStrides in 1..8; without interleave and with a swizzle, the box's
 * inner dimension in bytes at most the swizzle span (32, 64 or 128); 32-byte interleave only with the 32-byte swizzle;
 * the NaN out-of-bounds fill only for floating-point data. The map itself (an output) must be 64-byte aligned: the
 * encoder allocates it so ({@link TensorMap#ALIGNMENT}).
 */
public record TensorMapSpec(DataType dataType, long globalAddress, long[] globalDim, long[] globalStrides, int[] boxDim,
                            int[] elementStrides, Interleave interleave, Swizzle swizzle, L2Promotion l2Promotion, OobFill oobFill) {

    /** CUtensorMapDataType: the driver's code and the element size in bytes. */
    public enum DataType {
        UINT8(0, 1, false), UINT16(1, 2, false), UINT32(2, 4, false), INT32(3, 4, false), UINT64(4, 8, false), INT64(5, 8, false),
        FLOAT16(6, 2, true), FLOAT32(7, 4, true), FLOAT64(8, 8, true), BFLOAT16(9, 2, true), FLOAT32_FTZ(10, 4, true),
        TFLOAT32(11, 4, true), TFLOAT32_FTZ(12, 4, true);

        public final int code, bytes;
        public final boolean floating;

        DataType(int code, int bytes, boolean floating) {
            this.code = code;
            this.bytes = bytes;
            this.floating = floating;
        }
    }

    /** CUtensorMapInterleave. */
    public enum Interleave {
        NONE(0), B16(1), B32(2);
        public final int code;

        Interleave(int code) {
            this.code = code;
        }
    }

    /** CUtensorMapSwizzle (the modes that swizzle 16-byte chunks): span is the swizzle width in bytes, 0 for none. */
    public enum Swizzle {
        NONE(0, 0), B32(1, 32), B64(2, 64), B128(3, 128);
        public final int code, span;

        Swizzle(int code, int span) {
            this.code = code;
            this.span = span;
        }
    }

    /** CUtensorMapL2promotion. */
    public enum L2Promotion {
        NONE(0), L2_64B(1), L2_128B(2), L2_256B(3);
        public final int code;

        L2Promotion(int code) {
            this.code = code;
        }
    }

    /** CUtensorMapFloatOOBfill: NONE fills out-of-bounds elements with zeros. */
    public enum OobFill {
        NONE(0), NAN_REQUEST_ZERO_FMA(1);
        public final int code;

        OobFill(int code) {
            this.code = code;
        }
    }

    public static final int MAX_RANK = 5, MAX_BOX = 256, MAX_ELEMENT_STRIDE = 8;
    public static final long MAX_DIM = 1L << 32, STRIDE_LIMIT = 1L << 40;

    public TensorMapSpec {
        if (dataType == null || interleave == null || swizzle == null || l2Promotion == null || oobFill == null) {
            throw bad("dataType, interleave, swizzle, l2Promotion and oobFill must all be given");
        }
        if (globalDim == null || globalStrides == null || boxDim == null || elementStrides == null) {
            throw bad("globalDim, globalStrides, boxDim and elementStrides must all be given");
        }
        globalDim = globalDim.clone();
        globalStrides = globalStrides.clone();
        boxDim = boxDim.clone();
        elementStrides = elementStrides.clone();
        int rank = globalDim.length;
        if (rank < 1 || rank > MAX_RANK) throw bad("tensorRank = " + rank + ": expected 1.." + MAX_RANK);
        if (interleave != Interleave.NONE && rank < 3) throw bad("tensorRank = " + rank + " with interleave " + interleave + ": expected at least 3");
        long addressAlign = interleave == Interleave.B32 ? 32 : 16;
        if (globalAddress == 0) throw bad("globalAddress is null");
        if (globalAddress % addressAlign != 0) {
            throw bad("globalAddress 0x" + Long.toHexString(globalAddress) + " is not " + addressAlign + "-byte aligned");
        }
        for (int i = 0; i < rank; i++) {
            if (globalDim[i] < 1 || globalDim[i] > MAX_DIM) throw bad("globalDim[" + i + "] = " + globalDim[i] + ": expected 1..2^32");
        }
        if (globalStrides.length != rank - 1) {
            throw bad(globalStrides.length + " globalStrides for rank " + rank + ": expected rank - 1 = " + (rank - 1) + " (dimension 0's stride is the element size)");
        }
        long strideAlign = interleave == Interleave.B32 ? 32 : 16;
        long below = globalDim[0] * dataType.bytes;
        for (int i = 0; i < rank - 1; i++) {
            long s = globalStrides[i];
            if (s <= 0 || s % strideAlign != 0 || s >= STRIDE_LIMIT) {
                throw bad("globalStrides[" + i + "] = " + s + " bytes: expected a positive multiple of " + strideAlign + " below 2^40");
            }
            if (s < below) {
                throw bad("globalStrides[" + i + "] = " + s + " bytes is less than the " + below + " bytes of the dimensions below it");
            }
            below = Math.multiplyHigh(s, globalDim[i + 1]) != 0 ? Long.MAX_VALUE : s * globalDim[i + 1];
        }
        if (boxDim.length != rank) throw bad(boxDim.length + " boxDim entries for rank " + rank);
        for (int i = 0; i < rank; i++) {
            if (boxDim[i] < 1 || boxDim[i] > MAX_BOX) throw bad("boxDim[" + i + "] = " + boxDim[i] + ": expected 1.." + MAX_BOX);
        }
        long innerBytes = (long) boxDim[0] * dataType.bytes;
        if (interleave == Interleave.NONE && innerBytes % 16 != 0) {
            throw bad("boxDim[0] = " + boxDim[0] + " × " + dataType.bytes + "-byte " + dataType + " = " + innerBytes + " bytes: expected a multiple of 16");
        }
        if (elementStrides.length != rank) throw bad(elementStrides.length + " elementStrides for rank " + rank);
        for (int i = 0; i < rank; i++) {
            if (elementStrides[i] < 1 || elementStrides[i] > MAX_ELEMENT_STRIDE) {
                throw bad("elementStrides[" + i + "] = " + elementStrides[i] + ": expected 1.." + MAX_ELEMENT_STRIDE);
            }
        }
        if (interleave == Interleave.NONE && swizzle != Swizzle.NONE && innerBytes > swizzle.span) {
            throw bad("the box's inner dimension is " + innerBytes + " bytes (boxDim[0] = " + boxDim[0] + "), more than the "
                    + swizzle.span + "-byte span of swizzle " + swizzle);
        }
        if (interleave == Interleave.B32 && swizzle != Swizzle.B32) throw bad("interleave B32 requires swizzle B32, got " + swizzle);
        if (oobFill == OobFill.NAN_REQUEST_ZERO_FMA && !dataType.floating) {
            throw bad("oobFill NAN_REQUEST_ZERO_FMA needs a floating-point data type, got " + dataType);
        }
    }

    private static IllegalArgumentException bad(String what) {
        return new IllegalArgumentException("cuTensorMapEncodeTiled: " + what);
    }

    /**
     * A row-major matrix [rows, cols] of {@code type} at {@code address} with rows {@code cols} elements apart, read in
     * boxes of boxRows × boxCols with the given swizzle; out-of-bounds parts of a box read as zeros; L2 fetches of 256
     * bytes.
     */
    public static TensorMapSpec rowMajor(DataType type, long address, long rows, long cols, int boxRows, int boxCols, Swizzle swizzle) {
        return new TensorMapSpec(type, address, new long[]{cols, rows}, new long[]{cols * type.bytes}, new int[]{boxCols, boxRows},
                new int[]{1, 1}, Interleave.NONE, swizzle, L2Promotion.L2_256B, OobFill.NONE);
    }

    public int rank() {
        return globalDim.length;
    }

    /** Bytes one box occupies in shared memory (what a TMA copy of it completes on its mbarrier). */
    public long boxBytes() {
        long b = dataType.bytes;
        for (int d : boxDim) b *= d;
        return b;
    }

    @Override
    public long[] globalDim() {
        return globalDim.clone();
    }

    @Override
    public long[] globalStrides() {
        return globalStrides.clone();
    }

    @Override
    public int[] boxDim() {
        return boxDim.clone();
    }

    @Override
    public int[] elementStrides() {
        return elementStrides.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorMapSpec s && dataType == s.dataType && globalAddress == s.globalAddress
                && Arrays.equals(globalDim, s.globalDim) && Arrays.equals(globalStrides, s.globalStrides) && Arrays.equals(boxDim, s.boxDim)
                && Arrays.equals(elementStrides, s.elementStrides) && interleave == s.interleave && swizzle == s.swizzle
                && l2Promotion == s.l2Promotion && oobFill == s.oobFill;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new long[]{globalAddress, Arrays.hashCode(globalDim), Arrays.hashCode(boxDim), dataType.code, swizzle.code});
    }

    @Override
    public String toString() {
        return "TensorMapSpec[" + dataType + " at 0x" + Long.toHexString(globalAddress) + ", dims " + Arrays.toString(globalDim)
                + ", strides " + Arrays.toString(globalStrides) + " B, box " + Arrays.toString(boxDim) + ", element strides "
                + Arrays.toString(elementStrides) + ", interleave " + interleave + ", swizzle " + swizzle + ", L2 " + l2Promotion
                + ", OOB " + oobFill + "]";
    }
}
