package ecar.cuda.ops;

/** The element type a kernel writes: float32 (state, residual stream) or bf16 (the input of the next GEMM). */
public enum Precision {
    F32(4, "f32"),
    BF16(2, "bf16");

    public final int bytes;
    /** The suffix of the kernel entry point, e.g. gemm_bf16_t128_f32. */
    public final String suffix;

    Precision(int bytes, String suffix) {
        this.bytes = bytes;
        this.suffix = suffix;
    }
}
