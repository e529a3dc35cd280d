package ecar.tensor;

import java.util.Arrays;

/** A float32 tensor in a Java array: host data, and the CPU backend's storage. */
public final class FloatTensor implements Tensor {
    private final Shape shape;
    private final float[] data;

    public FloatTensor(Shape shape, float[] data) {
        if (data.length != shape.numel()) {
            throw new IllegalArgumentException("data of " + data.length + " floats does not fill shape " + shape + " (" + shape.numel() + ")");
        }
        this.shape = shape;
        this.data = data;
    }

    public static FloatTensor zeros(Shape shape) {
        return new FloatTensor(shape, new float[shape.size()]);
    }

    public static FloatTensor of(float[] data, int... dims) {
        return new FloatTensor(Shape.of(dims), data);
    }

    @Override
    public Shape shape() {
        return shape;
    }

    /** The elements, row-major; shared, not copied. */
    public float[] data() {
        return data;
    }

    /** The same data under another shape with as many elements. */
    public FloatTensor reshape(Shape s) {
        if (s.numel() != shape.numel()) throw new IllegalArgumentException("cannot reshape " + shape + " to " + s);
        return new FloatTensor(s, data);
    }

    public FloatTensor reshape(int... dims) {
        return reshape(Shape.of(dims));
    }

    public FloatTensor copy() {
        return new FloatTensor(shape, data.clone());
    }

    @Override
    public String toString() {
        return "FloatTensor" + shape + (data.length <= 8 ? Arrays.toString(data) : "");
    }
}
