package ecar.family;

import ecar.model.WeightSource;
import ecar.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Collects, for {@link ModelFamily#disagreements}, the architecture numbers a checkpoint's shapes contradict: each
 * line names the number, the configured value, the weights' value and the tensor that tells.
 */
public final class Disagreements {
    private final WeightSource weights;
    private final List<String> lines = new ArrayList<>();

    public Disagreements(WeightSource weights) {
        this.weights = weights;
    }

    /** The stored shape of a tensor, or null when the weights have none by that name. */
    public Shape shape(String name) {
        return weights.shape(name, null);
    }

    /** The number of blocks {@code prefix}N{@code suffix} the weights hold (distinct N), e.g. ("blocks.", ".attn.qkv.weight"). */
    public int blocks(String prefix, String suffix) {
        Pattern p = Pattern.compile("^" + Pattern.quote(prefix) + "(\\d+)" + Pattern.quote(suffix) + "$");
        TreeSet<Integer> found = new TreeSet<>();
        for (String n : weights.names()) {
            Matcher m = p.matcher(n);
            if (m.matches()) found.add(Integer.parseInt(m.group(1)));
        }
        return found.size();
    }

    /** Records "number configured: the weights say found (evidence)" when the two differ. */
    public void check(String number, Object configured, Object found, String evidence) {
        if (!Objects.equals(configured, found)) add(number + " " + configured + ": the weights say " + found + " (" + evidence + ")");
    }

    public void add(String line) {
        lines.add(line);
    }

    public List<String> lines() {
        return List.copyOf(lines);
    }
}
