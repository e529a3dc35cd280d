package ecar.cuda;

/** The C types a kernel parameter may have, as written in a {@link KernelSignature}. */
public enum ArgType {
    /** A device pointer that must not be null (a {@link DeviceAddress}). */
    PTR("ptr", 8),
    /** A device pointer that may be null (a {@link DeviceAddress} or Java null). */
    PTR_OR_NULL("ptr?", 8),
    I32("i32", 4),
    U32("u32", 4),
    I64("i64", 8),
    U64("u64", 8),
    F32("f32", 4),
    /** A TMA descriptor passed by value (a {@link TensorMap}: 128 bytes, 64-byte aligned; in CUDA C a __grid_constant__ struct). */
    TMAP("tmap", TensorMap.BYTES);

    public final String token;
    public final int bytes;

    ArgType(String token, int bytes) {
        this.token = token;
        this.bytes = bytes;
    }

    static ArgType parse(String token) {
        for (ArgType t : values()) if (t.token.equals(token)) return t;
        return null;
    }

    /** What a Java caller must pass, for error messages. */
    String javaType() {
        return switch (this) {
            case PTR -> "a device buffer";
            case PTR_OR_NULL -> "a device buffer or null";
            case I32, U32 -> "an int";
            case I64, U64 -> "a long";
            case F32 -> "a float";
            case TMAP -> "a TensorMap";
        };
    }
}
