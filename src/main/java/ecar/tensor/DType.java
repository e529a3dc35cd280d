package ecar.tensor;

/** Element types of stored tensors, with their safetensors names. */
public enum DType {
    F32(4, "F32"),
    F16(2, "F16"),
    BF16(2, "BF16"),
    I64(8, "I64");

    public final int bytes;
    public final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    /** The type of a safetensors dtype string, or null when it is not one we read. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) if (t.safetensorsName.equals(name)) return t;
        return null;
    }

    public boolean isFloat() {
        return this != I64;
    }
}
