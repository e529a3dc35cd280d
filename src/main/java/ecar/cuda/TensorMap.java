package ecar.cuda;

import java.util.Arrays;

/**
 * An encoded TMA descriptor (CUtensorMap): 128 opaque bytes made by the driver from a {@link TensorMapSpec}, passed to a
 * kernel by value as a {@code tmap} parameter ({@link KernelSignature}; in CUDA C a {@code const __grid_constant__}
 * 128-byte, 64-byte aligned struct). The spec is kept for error messages and tests.
 */
public final class TensorMap {
    /** sizeof(CUtensorMap) and its alignment. */
    public static final int BYTES = 128, ALIGNMENT = 64;

    private final TensorMapSpec spec;
    private final byte[] bytes;

    /** @param bytes the descriptor as the encoder wrote it: exactly {@link #BYTES} bytes */
    public TensorMap(TensorMapSpec spec, byte[] bytes) {
        if (spec == null) throw new IllegalArgumentException("a tensor map needs the spec it was encoded from");
        if (bytes == null || bytes.length != BYTES) {
            throw new IllegalArgumentException("a CUtensorMap is " + BYTES + " bytes, got " + (bytes == null ? "null" : bytes.length));
        }
        this.spec = spec;
        this.bytes = bytes.clone();
    }

    /** Encodes spec with the driver's cuTensorMapEncodeTiled ({@link TensorMapDriver}). */
    public static TensorMap encode(TensorMapSpec spec) {
        return TensorMapDriver.encodeTiled(spec);
    }

    public TensorMapSpec spec() {
        return spec;
    }

    /** A copy of the descriptor's bytes (what the kernel parameter receives). */
    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorMap t && spec.equals(t.spec) && Arrays.equals(bytes, t.bytes);
    }

    @Override
    public int hashCode() {
        return spec.hashCode() * 31 + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "TensorMap of " + spec;
    }
}
