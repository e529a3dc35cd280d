package ecar.tensor;

import java.util.Arrays;

/** The dimensions of a row-major tensor. Immutable. */
public record Shape(int... dims) {

    public Shape {
        dims = dims.clone();
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
        }
    }

    public static Shape of(int... dims) {
        return new Shape(dims);
    }

    public int rank() {
        return dims.length;
    }

    /** Dimension i; negative i counts from the end (-1 is the last). */
    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public long numel() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** Number of elements as an int, for tensors that must fit one Java array. */
    public int size() {
        long n = numel();
        if (n > Integer.MAX_VALUE) throw new IllegalStateException("tensor of shape " + this + " has more than 2^31-1 elements");
        return (int) n;
    }

    /** The last dimension: the width of a row. */
    public int last() {
        return dims[dims.length - 1];
    }

    /** Product of all dimensions but the last: the number of rows. */
    public int rows() {
        return last() == 0 ? 0 : size() / last();
    }

    /** This shape with the last dimension replaced. */
    public Shape withLast(int last) {
        int[] d = dims.clone();
        d[d.length - 1] = last;
        return new Shape(d);
    }

    public int[] toArray() {
        return dims.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
