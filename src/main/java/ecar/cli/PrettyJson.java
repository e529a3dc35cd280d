package ecar.cli;

import ecar.io.Json;

import java.util.List;
import java.util.Map;

/**
 * JSON laid out for a person reading the file, every value written by {@link Json#write}: an object or array that
 * holds objects or arrays, and an array of strings, gets a line per member; one of plain values stays on one line
 * (a run of the compare results is one line, easy to diff and grep).
 */
final class PrettyJson {
    private PrettyJson() {}

    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, "");
        return b.toString();
    }

    private static void write(StringBuilder b, Object v, String indent) {
        String inner = indent + "  ";
        switch (v) {
            case null -> b.append("null");
            case Map<?, ?> m when !flat(m.values()) -> {
                b.append("{\n");
                int k = 0;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    b.append(inner).append(Json.write(String.valueOf(e.getKey()))).append(": ");
                    write(b, e.getValue(), inner);
                    b.append(++k < m.size() ? ",\n" : "\n");
                }
                b.append(indent).append('}');
            }
            case List<?> l when !flat(l) || l.stream().anyMatch(x -> x instanceof String) -> {
                b.append("[\n");
                for (int k = 0; k < l.size(); k++) {
                    b.append(inner);
                    write(b, l.get(k), inner);
                    b.append(k + 1 < l.size() ? ",\n" : "\n");
                }
                b.append(indent).append(']');
            }
            default -> b.append(Json.write(v));
        }
    }

    private static boolean flat(java.util.Collection<?> values) {
        return values.stream().noneMatch(x -> x instanceof Map || x instanceof List);
    }
}
