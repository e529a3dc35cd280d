package ecar.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * A kernel's name and parameter list, written as in C with our type names:
 * {@code "flow_euler(ptr x, ptr v, i64 n, f32 dt)"} (types: ptr, ptr?, i32, u32, i64, u64, f32, tmap). Every launch
 * checks its Java arguments against it, so a wrong count or type fails in Java with the kernel and parameter
 * named, instead of as a silent misread on the device. Pure logic: no GPU needed.
 */
public record KernelSignature(String name, List<Param> params) {

    public record Param(ArgType type, String name) {}

    public KernelSignature {
        params = List.copyOf(params);
    }

    /** The parameters' types in order. */
    public List<ArgType> types() {
        return params.stream().map(Param::type).toList();
    }

    public static KernelSignature parse(String text) {
        String s = text.strip();
        int open = s.indexOf('('), close = s.lastIndexOf(')');
        if (open <= 0 || close != s.length() - 1) {
            throw new IllegalArgumentException("kernel signature '" + text + "': expected name(type name, ...)");
        }
        String name = s.substring(0, open).strip();
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("kernel signature '" + text + "': '" + name + "' is not a C identifier");
        }
        List<Param> params = new ArrayList<>();
        String body = s.substring(open + 1, close).strip();
        if (!body.isEmpty()) {
            for (String part : body.split(",")) {
                String[] tn = part.strip().split("\\s+");
                ArgType t = tn.length == 2 ? ArgType.parse(tn[0]) : null;
                if (t == null) {
                    throw new IllegalArgumentException("kernel signature '" + text + "': parameter '" + part.strip()
                            + "' is not 'type name' with type one of ptr, ptr?, i32, u32, i64, u64, f32, tmap");
                }
                params.add(new Param(t, tn[1]));
            }
        }
        return new KernelSignature(name, params);
    }

    /**
     * Checks the arguments of one launch and returns each as the raw bits the kernel receives (pointers as
     * addresses, floats as their IEEE bits), in parameter order. A tmap parameter's entry is 0: its 128 bytes are the
     * {@link TensorMap} argument itself ({@link Kernel#launch} passes {@link TensorMap#bytes()}).
     */
    public long[] encode(Object... args) {
        if (args.length != params.size()) {
            throw new IllegalArgumentException(name + ": got " + args.length + " arguments, expected " + params.size() + ": " + this);
        }
        long[] bits = new long[args.length];
        for (int i = 0; i < args.length; i++) bits[i] = encodeOne(i, params.get(i), args[i]);
        return bits;
    }

    private long encodeOne(int i, Param p, Object a) {
        switch (p.type()) {
            case PTR, PTR_OR_NULL -> {
                if (a == null) {
                    if (p.type() == ArgType.PTR) throw mismatch(i, p, null);
                    return 0L;
                }
                if (a instanceof DeviceAddress d) {
                    if (d.address() == 0L) {
                        throw new IllegalArgumentException(name + ": argument " + i + " (" + p.name() + ") is a released buffer '" + d.label() + "'");
                    }
                    return d.address();
                }
                throw mismatch(i, p, a);
            }
            case I32 -> {
                if (a instanceof Integer v) return v;
                throw mismatch(i, p, a);
            }
            case U32 -> {
                if (a instanceof Integer v) return v & 0xffffffffL;
                throw mismatch(i, p, a);
            }
            case I64, U64 -> {
                if (a instanceof Long v) return v;
                throw mismatch(i, p, a);
            }
            case F32 -> {
                if (a instanceof Float v) return Float.floatToRawIntBits(v) & 0xffffffffL;
                throw mismatch(i, p, a);
            }
            case TMAP -> {
                if (a instanceof TensorMap) return 0L;
                throw mismatch(i, p, a);
            }
        }
        throw new AssertionError(p.type());
    }

    private IllegalArgumentException mismatch(int i, Param p, Object a) {
        String got = a == null ? "null" : "a " + a.getClass().getSimpleName() + " (" + a + ")";
        return new IllegalArgumentException(name + ": argument " + i + " (" + p.name() + ") is " + got + ", expected "
                + p.type().javaType() + " for C type " + p.type().token);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(name).append('(');
        for (int i = 0; i < params.size(); i++) {
            if (i > 0) b.append(", ");
            b.append(params.get(i).type().token).append(' ').append(params.get(i).name());
        }
        return b.append(')').toString();
    }
}
