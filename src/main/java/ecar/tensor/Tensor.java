package ecar.tensor;

/**
 * A handle to a row-major float tensor owned by a backend. Models only pass handles to backend ops; the data
 * lives where the backend keeps it (a Java array for the CPU, device memory for CUDA).
 */
public interface Tensor {
    Shape shape();

    /**
     * How the backend stores the elements (F32 for activations and state; a GPU keeps weights, and the matmul operands
     * of Backend's class comment, in BF16).
     */
    default DType dtype() {
        return DType.F32;
    }
}
