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
 * Time per {@link Backend} op: a backend that forwards every call to another and times it, for {@code ecar profile}.
 * Time is counted once: an op that runs other ops (a sampling loop, a step, a scope's body) keeps only its own share,
 * the ops inside it count for themselves. Without a {@link DeviceClock} that is wall time on the host; with {@code
 * sync} the device is waited for after every op, so that its kernels count toward the op that queued them. With a
 * clock (the GPU) it is device time: the clock's interval around each op, less the footprints of the ops inside it.
 * Either way the graphs must be off, as a captured op runs nothing. The matrix products are labelled by shape and get
 * their FLOP rate.
 */
final class OpTimes implements InvocationHandler {
    /** What the table shows of one op (or one matrix-product shape). */
    record Row(String op, long calls, double seconds, double flops) {
        double share(double total) {
            return total > 0 ? seconds / total : 0;
        }
    }

    /** Device time of one op (the GPU: CudaBackend.DeviceTimer), opened before the op queues its work, closed after. */
    interface DeviceClock {
        Object open();

        void close(Object interval);

        /**
         * {device seconds of the interval, its footprint in an enclosing interval, and optionally 1 when the device
         * time may hold host gaps (the host was slower to queue it than the clock allows)}, once the device is past its end.
         */
        double[] read(Object interval);
    }

    /** What an op in progress has seen of the ops inside it. */
    private static final class Frame {
        long childHostNanos;
        double childFootprint;
    }

    /** Ops that only run others, or only describe: not timed as work of their own. */
    private static final Set<String> PLUMBING = Set.of("name", "scope", "peakMemoryBytes", "resetPeakMemory", "peakTeraflops",
            "loopRunsBeforeReplay", "toString", "hashCode", "equals");

    private final Backend target;
    private final Runnable sync;
    private final DeviceClock clock;
    private final Deque<Frame> inside = new ArrayDeque<>();
    private final Map<String, double[]> tally = new LinkedHashMap<>();   // op → {calls, seconds, flops}
    private long gapped;   // device intervals the clock said may hold host gaps
    private boolean on;

    private OpTimes(Backend target, Runnable sync, DeviceClock clock) {
        this.target = target;
        this.sync = sync;
        this.clock = clock;
    }

    /** A backend that times every op it forwards to {@code target} (from {@link #start()} on); {@code sync} may be null. */
    static OpTimes around(Backend target, Runnable sync) {
        return new OpTimes(target, sync, null);
    }

    /** A backend that times the device's share of every op it forwards to {@code target} with {@code clock}. */
    static OpTimes onDevice(Backend target, DeviceClock clock) {
        return new OpTimes(target, null, clock);
    }

    /** Whether the times are device time (a clock) rather than the host's wall time. */
    boolean deviceTime() {
        return clock != null;
    }

    Backend backend() {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, this);
    }

    /** Forgets what was timed so far (loading, warm-up) and times from now on. */
    void start() {
        tally.clear();
        gapped = 0;
        on = true;
    }

    /** How many op intervals since {@link #start()} may hold host gaps (the host queued them slower than the gate lasted). */
    long gappedIntervals() {
        return gapped;
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
        // an op with a body (step, loop) runs ops of its own between its launches: its interval would hold the device's
        // idle time while the host times them, so it gets none (its own few kernels, scalar uploads, go untimed)
        Object interval = clock == null || runsABody(args) ? null : clock.open();
        Frame frame = new Frame();
        inside.push(frame);
        try {
            Object result = call(m, args);
            if (sync != null) sync.run();
            return result;
        } finally {
            inside.pop();
            long spent = System.nanoTime() - t0;
            double own, footprint = frame.childFootprint;   // a body's ops: their footprints pass on to the op above
            if (clock != null && interval == null) {
                own = 0;
            } else if (interval != null) {
                clock.close(interval);
                double[] d = clock.read(interval);
                own = d[0] - frame.childFootprint;
                footprint = d[1];
                if (d.length > 2 && d[2] > 0) gapped++;
            } else {
                own = (spent - frame.childHostNanos) / 1e9;
            }
            Frame parent = inside.peek();
            if (parent != null) {
                parent.childHostNanos += spent;
                parent.childFootprint += footprint;
            }
            double[] t = tally.computeIfAbsent(label(m.getName(), args), k -> new double[3]);
            t[0]++;
            t[1] += own;
            t[2] += flops(m.getName(), args);
        }
    }

    private static boolean runsABody(Object[] args) {
        if (args != null) for (Object a : args) if (a instanceof Runnable) return true;
        return false;
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

    /** M, N, K of linear(x, w, …), linearOperand, linearRope(Queries), linearIntoResidual(x, input, w, …) and gatedLinear(x, w, …); null for other ops. */
    private static long[] mnk(String op, Object[] args) {
        int in, w;
        switch (op) {
            case "linear", "linearOperand", "gatedLinear", "linearRope", "linearRopeQueries" -> { in = 0; w = 1; }
            case "linearIntoResidual" -> { in = 1; w = 2; }
            default -> { return null; }
        }
        if (args == null || args.length <= w || !(args[in] instanceof Tensor x) || !(args[w] instanceof Tensor wt) || wt.shape().rank() != 2) return null;
        long k = wt.shape().dim(1);
        return new long[]{x.shape().numel() / k, wt.shape().dim(0), k};
    }
}
