package ecar.cuda;

import ecar.tensor.DType;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * A tensor in device memory: a shape, an element type (F32 for activations and the ODE state, BF16 for weights and
 * matmul operands: attention operands and outputs, normalised activations) and a byte range of a {@link DeviceBuffer}.
 * Views (reshape, batch slices) share the buffer and whether it holds a constant (a weight, never written again).
 */
public final class CudaTensor implements Tensor {
    private final Shape shape;
    private final DType dtype;
    private final DeviceBuffer buffer;
    private final Object owner;   // keeps the storage reachable while any view lives (its Cleaner frees it)
    private final boolean constant;
    /** Set by {@link #neverWritten}: why this tensor holds nothing (a GEMM computed its values in its prologue instead). */
    private String neverWritten;

    public CudaTensor(Shape shape, DType dtype, DeviceBuffer buffer, Object owner) {
        this(shape, dtype, buffer, owner, false);
    }

    private CudaTensor(Shape shape, DType dtype, DeviceBuffer buffer, Object owner, boolean constant) {
        if (dtype != DType.F32 && dtype != DType.BF16) throw new IllegalArgumentException("device tensors are F32 or BF16, not " + dtype);
        if (shape.numel() * dtype.bytes > buffer.bytes()) {
            throw new IllegalArgumentException(shape + " " + dtype + " needs " + shape.numel() * dtype.bytes + " bytes; '" + buffer.label() + "' has " + buffer.bytes());
        }
        this.shape = shape;
        this.dtype = dtype;
        this.buffer = buffer;
        this.owner = owner;
        this.constant = constant;
    }

    /** The same tensor marked as a constant: a weight, written once and only read from then on. */
    public CudaTensor asConstant() {
        return new CudaTensor(shape, dtype, buffer(), owner, true);
    }

    /** Whether this holds a constant (see {@link #asConstant}): copies derived from it may be kept as long as it lives. */
    public boolean constant() {
        return constant;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    public DeviceBuffer buffer() {
        if (neverWritten != null) throw new IllegalStateException(this + " was never written: " + neverWritten);
        return buffer;
    }

    /**
     * Marks this tensor as never written, for the reason given: a GEMM read its values from their inputs instead
     * (ecar.cuda.backend.DeferredNorm). Any later use of it ({@link #buffer}, a view) then fails with the reason.
     */
    public void neverWritten(String why) {
        this.neverWritten = why;
    }

    public long bytes() {
        return shape.numel() * dtype.bytes;
    }

    /** The same elements under another shape. */
    public CudaTensor view(Shape s) {
        if (s.numel() != shape.numel()) throw new IllegalArgumentException("cannot view " + shape + " as " + s);
        return new CudaTensor(s, dtype, buffer(), owner, constant);
    }

    /** Rows [from, to) of the first dimension, as a view. */
    public CudaTensor sliceFirst(int from, int to) {
        long per = shape.numel() / shape.dim(0) * dtype.bytes;
        int[] d = shape.toArray();
        d[0] = to - from;
        return new CudaTensor(new Shape(d), dtype, buffer().slice(from * per, Math.max(1, (to - from) * per), buffer.label() + "[" + from + ":" + to + "]"), owner,
                constant);
    }

    @Override
    public String toString() {
        return "CudaTensor" + shape + " " + dtype + " in " + buffer.label();
    }
}
