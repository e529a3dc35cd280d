package ecar.cli;

import ecar.backend.Backend;
import ecar.tensor.Tensor;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Wall time per {@link Backend} op: a backend that forwards every call to another and times it, for {@code ecar profile}.
 * Time is counted once: an op that runs other ops (a sampling loop, a step, a scope's body) keeps only its own share,
 * the ops inside it count for themselves. With {@code sync} (the GPU) the device is waited for after every op, so
 * that its kernels count toward the op that queued them, not toward a later one; the graphs must be off, as a captured
 * op runs nothing. The matrix products are labelled by shape and get their FLOP rate.
 */
final class OpTimes implements InvocationHandler {
    /** What the table shows of one op (or one matrix-product shape). */
    record Row(String op, long calls, double seconds, double flops) {
        double share(double total) {
            return total > 0 ? seconds / total : 0;
        }
    }

    /** Ops that only run others, or only describe: not timed as work of their own. */
    private static final Set<String> PLUMBING = Set.of("name", "scope", "peakMemoryBytes", "resetPeakMemory", "peakTeraflops",
            "loopRunsBeforeReplay", "toString", "hashCode", "equals");

    private final Backend target;
    private final Runnable sync;
    private final Deque<long[]> inside = new ArrayDeque<>();
    private final Map<String, double[]> tally = new LinkedHashMap<>();   // op → {calls, seconds, flops}
    private boolean on;

    private OpTimes(Backend target, Runnable sync) {
        this.target = target;
        this.sync = sync;
    }

    /** A backend that times every op it forwards to {@code target} (from {@link #start()} on); {@code sync} may be null. */
    static OpTimes around(Backend target, Runnable sync) {
        return new OpTimes(target, sync);
    }

    Backend backend() {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, this);
    }

    /** Forgets what was timed so far (loading, warm-up) and times from now on. */
    void start() {
        tally.clear();
        on = true;
    }

    /** The ops timed since {@link #start()}, the longest total first. */
    List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        tally.forEach((op, t) -> rows.add(new Row(op, (long) t[0], t[1], t[2])));
        rows.sort(Comparator.comparingDouble(Row::seconds).reversed());
        return rows;
    }

    @Override
    public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
        if (!on || PLUMBING.contains(m.getName())) return call(m, args);
        long t0 = System.nanoTime();
        inside.push(new long[1]);
        try {
            Object result = call(m, args);
            if (sync != null) sync.run();
            return result;
        } finally {
            long spent = System.nanoTime() - t0, ownChildren = inside.pop()[0];
            if (!inside.isEmpty()) inside.peek()[0] += spent;
            double[] t = tally.computeIfAbsent(label(m.getName(), args), k -> new double[3]);
            t[0]++;
            t[1] += (spent - ownChildren) / 1e9;
            t[2] += flops(m.getName(), args);
        }
    }

    private Object call(Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The op's name; a matrix product's with its shape, M × K by N × K (the weight as stored). */
    static String label(String op, Object[] args) {
        long[] mnk = mnk(op, args);
        if (mnk == null) return op;
        return String.format(Locale.ROOT, "%s %d×%d·(%d×%d)ᵀ", op, mnk[0], mnk[2], mnk[1], mnk[2]);
    }

    /** 2·M·N·K for the matrix products (gatedLinear's N counts its gate and value rows), else 0. */
    static double flops(String op, Object[] args) {
        long[] mnk = mnk(op, args);
        if (mnk == null) return 0;
        return 2.0 * mnk[0] * mnk[1] * mnk[2];
    }

    /** M, N, K of linear(x, w, …), linearOperand, linearIntoResidual(x, input, w, …) and gatedLinear(x, w, …); null for other ops. */
    private static long[] mnk(String op, Object[] args) {
        int in, w;
        switch (op) {
            case "linear", "linearOperand", "gatedLinear" -> { in = 0; w = 1; }
            case "linearIntoResidual" -> { in = 1; w = 2; }
            default -> { return null; }
        }
        if (args == null || args.length <= w || !(args[in] instanceof Tensor x) || !(args[w] instanceof Tensor wt) || wt.shape().rank() != 2) return null;
        long k = wt.shape().dim(1);
        return new long[]{x.shape().numel() / k, wt.shape().dim(0), k};
    }
}
