package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;

/** Argument checks shared by the op wrappers; each failure names the op, the operand and what was expected. */
final class OpCheck {
    private OpCheck() {}

    static void that(boolean ok, String op, String message) {
        if (!ok) throw new IllegalArgumentException(op + ": " + message);
    }

    static void positive(String op, String name, long value) {
        that(value > 0, op, name + " = " + value + ", expected at least 1");
    }

    /** A required operand of at least {@code bytes} bytes whose address is a multiple of {@code alignment}. */
    static void buffer(String op, String name, DeviceAddress d, long bytes, int alignment, String layout) {
        that(d != null, op, name + " is null, expected a device buffer holding " + layout);
        optional(op, name, d, bytes, alignment, layout);
    }

    /** As {@link #buffer} when {@code d} is not null. */
    static void optional(String op, String name, DeviceAddress d, long bytes, int alignment, String layout) {
        if (d == null) return;
        that(d.bytes() >= bytes, op, name + " '" + d.label() + "' has " + d.bytes() + " bytes, expected at least " + bytes + " for " + layout);
        that(d.address() % alignment == 0, op, name + " '" + d.label() + "' at 0x" + Long.toHexString(d.address())
                + " is not " + alignment + "-byte aligned");
    }

    /** An output must not overlap an input it is computed from (other threads may still be reading it). */
    static void disjoint(String op, String outName, DeviceAddress out, String inName, DeviceAddress in) {
        if (apart(out, in)) return;
        that(false, op, outName + " '" + out.label() + "' overlaps " + inName + " '" + in.label()
                + "' (the kernel reads " + inName + " while other blocks write " + outName + ")");
    }

    /** Whether the two ranges share no byte (true where either is null). */
    static boolean apart(DeviceAddress a, DeviceAddress b) {
        if (a == null || b == null) return true;
        long a0 = a.address(), a1 = a0 + a.bytes(), b0 = b.address(), b1 = b0 + b.bytes();
        return a1 <= b0 || b1 <= a0;
    }

    /** Blocks of {@code block} threads over {@code items} items, as an int grid. */
    static int blocks(String op, long items, int block) {
        long g = (items + block - 1) / block;
        that(g <= Integer.MAX_VALUE, op, items + " elements need " + g + " blocks, more than 2^31-1");
        return (int) g;
    }

    static int ceilDiv(long a, int b) {
        return (int) ((a + b - 1) / b);
    }
}
