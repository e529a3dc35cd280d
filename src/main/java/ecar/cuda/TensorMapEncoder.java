package ecar.cuda;

/**
 * Turns a checked {@link TensorMapSpec} into a {@link TensorMap}: the driver ({@link #DRIVER}) on a GPU machine, or a
 * stand-in in tests that run the launch wrappers without one.
 */
@FunctionalInterface
public interface TensorMapEncoder {
    TensorMap encode(TensorMapSpec spec);

    /** cuTensorMapEncodeTiled of libcuda.so.1, bound on first use. */
    TensorMapEncoder DRIVER = TensorMap::encode;
}
