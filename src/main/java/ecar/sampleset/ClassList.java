package ecar.sampleset;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Class labels written as the command line takes them: "0-999", "207", "1,5,10-19" (in that order, no repeats). */
public final class ClassList {
    private ClassList() {}

    public static int[] parse(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("--classes is empty; expected labels such as 0-999 or 1,5,10-19");
        Set<Integer> labels = new LinkedHashSet<>();
        for (String item : text.split(",")) {
            String t = item.strip();
            int dash = t.indexOf('-', 1);
            int from = number(t, dash < 0 ? t : t.substring(0, dash), text), to = dash < 0 ? from : number(t, t.substring(dash + 1), text);
            if (to < from) throw new IllegalArgumentException("--classes " + text + ": range " + t + " runs backwards; expected FROM-TO with FROM <= TO");
            for (int l = from; l <= to; l++) {
                if (!labels.add(l)) throw new IllegalArgumentException("--classes " + text + ": class " + l + " is given twice");
            }
        }
        List<Integer> list = new ArrayList<>(labels);
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = list.get(i);
        return out;
    }

    private static int number(String item, String digits, String text) {
        try {
            int v = Integer.parseInt(digits.strip());
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--classes " + text + ": '" + item + "' is not a class label or a range FROM-TO of them");
        }
    }

    /** The labels in the shortest form parse reads back: consecutive runs as FROM-TO. */
    public static String format(int[] labels) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < labels.length; ) {
            int j = i;
            while (j + 1 < labels.length && labels[j + 1] == labels[j] + 1) j++;
            b.append(b.isEmpty() ? "" : ",").append(labels[i]);
            if (j > i) b.append('-').append(labels[j]);
            i = j + 1;
        }
        return b.toString();
    }
}
