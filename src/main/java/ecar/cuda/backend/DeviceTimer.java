package ecar.cuda.backend;

import ecar.cuda.Event;
import ecar.cuda.Stream;
import ecar.cuda.ops.ElementwiseKernels;

/**
 * Device time of the work queued between {@link #open()} and {@link Interval#close()}, without the host's launch gaps,
 * for {@code ecar profile}: open records an event, queues spin_gate (kernels/elementwise.cu), which holds the stream
 * for the gate's nanoseconds while the host queues the interval's launches behind it, and records a second event;
 * close records a third. Once the device is past the third, {@link Interval#read()} gives the device time (second to
 * third: the interval's kernels back to back, plus about a microsecond of event overhead) and the footprint (first to
 * third, the gate included: what the interval adds to an enclosing one). The gate must outlast the host's queueing of
 * the interval, or the host's gaps come back; the sampling graphs must be off, as a captured op queues nothing.
 */
public final class DeviceTimer {
    /** 200 µs: the host queues an op's few launches in well under that (JCuda: about 10 µs a launch). */
    public static final long DEFAULT_GATE_NANOS = 200_000;

    private final Stream stream;
    private final ElementwiseKernels ew;
    private final long gateNanos;
    /** Gates queued so far (a kernel each: ecar profile leaves them out of its count of the model's kernels). */
    private long gates;

    DeviceTimer(Stream stream, ElementwiseKernels ew, long gateNanos) {
        this.stream = stream;
        this.ew = ew;
        this.gateNanos = gateNanos;
    }

    /** One timed interval: three events, freed by {@link #read()}. */
    public final class Interval {
        private final Event start = new Event(), gated = new Event(), end = new Event();
        private final long opened = System.nanoTime();
        private long queued;
        private boolean closed;

        /** Ends the interval (after its work was queued); a second call does nothing. */
        public void close() {
            if (closed) return;
            closed = true;
            queued = System.nanoTime() - opened;
            end.record(stream);
        }

        /**
         * {device seconds, footprint seconds, 1 if the host took longer than the gate to queue the interval (its device
         * time then holds host gaps) else 0}, waiting for the device to pass the end; frees the events.
         */
        public double[] read() {
            close();
            try {
                return new double[]{end.elapsedSince(gated) / 1e3, end.elapsedSince(start) / 1e3, queued > gateNanos ? 1 : 0};
            } finally {
                start.close();
                gated.close();
                end.close();
            }
        }
    }

    /** Starts an interval: the first event, the gate, the second event. */
    public Interval open() {
        Interval iv = new Interval();
        iv.start.record(stream);
        ew.spinGate(gateNanos);
        gates++;
        iv.gated.record(stream);
        return iv;
    }

    /** The gate kernels {@link #open} has queued so far. */
    public long gates() {
        return gates;
    }
}
