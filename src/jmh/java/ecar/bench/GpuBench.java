package ecar.bench;

import ecar.cuda.CudaProbe;
import ecar.cuda.Event;
import ecar.cuda.Stream;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.util.ArrayList;
import java.util.List;

/**
 * What every GPU benchmark does around its kernel: skip (and say why) without a GPU or without the kernel family's
 * fatbin, one stream and two events, device times per launch from a burst between the events, kept only in
 * measurement iterations (warm-up calls are timed but dropped), and their median at tear-down.
 */
@State(Scope.Benchmark)
public abstract class GpuBench {
    /** Why nothing is measured, or null. */
    protected String skip;
    protected Stream stream;
    private Event start, end;
    private final List<Float> ms = new ArrayList<>();
    private boolean measuring;

    /** Opens the stream and events; false (having printed why under label) when there is no GPU or no such fatbin. */
    protected boolean open(String label, String family) {
        if (!CudaProbe.available()) skip = "no GPU: " + CudaProbe.probe().reason();
        else if (GpuBench.class.getResource("/kernels/" + family + ".fatbin") == null) skip = "kernels/" + family + ".fatbin was not built (no nvcc at build time)";
        if (skip != null) {
            System.out.println("\n[" + label + "] skipped: " + skip);
            return false;
        }
        stream = new Stream();
        start = new Event();
        end = new Event();
        return true;
    }

    @Setup(Level.Iteration)
    public void iteration(IterationParams p) {
        measuring = p.getType() == IterationType.MEASUREMENT;
    }

    /** Queues launches calls of body between the events and keeps the per-launch milliseconds when measuring. */
    protected void time(int launches, Runnable body) {
        float t = GpuTiming.msPerLaunch(stream, start, end, launches, body);
        if (measuring) ms.add(t);
    }

    protected int samples() {
        return ms.size();
    }

    protected double medianMs() {
        return GpuTiming.median(ms);
    }

    /** Releases the stream and events (subclasses free their own buffers first). */
    protected void closeGpu() {
        start.close();
        end.close();
        stream.close();
    }
}
