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
 *
 * <p>The burst is captured once as a CUDA graph (after one eager burst, which fills lazy state such as the kernels'
 * shared-memory attributes) and replayed: the pipelines replay their sampling loops as graphs too, and a stream of
 * separate launches from Java would time the host's launch rate on the small shapes of batch 1 instead of the
 * kernel (tools/gemm_bench.py and tools/sdpa_bench.py replay graphs likewise). {@code -Decar.bench.graphs=false}
 * times the stream of launches instead; a capture that fails says why once and falls back to it.
 */
@State(Scope.Benchmark)
public abstract class GpuBench {
    /** Why nothing is measured, or null. */
    protected String skip;
    protected Stream stream;
    private Event start, end;
    private final List<Float> ms = new ArrayList<>();
    private boolean measuring;
    /** The captured burst, once captured; null before, and for good where graphs are off or the capture failed. */
    private ecar.cuda.CudaGraph burst;
    private boolean graphs = !"false".equals(System.getProperty("ecar.bench.graphs"));

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

    /**
     * Times a burst of {@code launches} calls of body between the events (a graph replay after the first burst, see the
     * class comment) and keeps the per-launch milliseconds when measuring.
     */
    protected void time(int launches, Runnable body) {
        float t;
        if (burst != null) {
            t = GpuTiming.msPerLaunch(stream, start, end, launches, () -> burst.launch(stream), 1);
        } else {
            t = GpuTiming.msPerLaunch(stream, start, end, launches, body, launches);
            if (graphs) capture(launches, body);
        }
        if (measuring) ms.add(t);
    }

    private void capture(int launches, Runnable body) {
        try {
            burst = ecar.cuda.CudaGraph.capture(stream, () -> {
                for (int i = 0; i < launches; i++) body.run();
            });
        } catch (RuntimeException e) {
            graphs = false;
            System.out.println("\n[bench] the burst could not be captured as a CUDA graph (" + e.getMessage() + "): timing separate launches");
        }
    }

    /** More than the L2 of the cards we run (H100 50 MiB, H200 60 MiB): weights rotated over copies this large stream from memory. */
    protected static final long L2_BYTES = 64L << 20;

    /**
     * Zeroed bf16 matrices of {@code elements} each, enough copies (two at least) that launches cycling through them read
     * every weight from memory, as a model's successive layers do, not from L2. Close them at tear-down.
     */
    protected static List<ecar.cuda.DeviceBuffer> copiesPastL2(int elements, String label) {
        long bytes = 2L * elements;
        List<ecar.cuda.DeviceBuffer> copies = new ArrayList<>();
        for (int i = 0; i < (int) Math.max(2, (L2_BYTES + bytes - 1) / bytes); i++) {
            ecar.cuda.DeviceBuffer w = ecar.cuda.DeviceBuffer.allocate(bytes, label + i);
            w.upload(new short[elements]);
            copies.add(w);
        }
        return copies;
    }

    protected int samples() {
        return ms.size();
    }

    protected double medianMs() {
        return GpuTiming.median(ms);
    }

    /** Releases the stream and events (subclasses free their own buffers first). */
    protected void closeGpu() {
        if (burst != null) burst.close();
        burst = null;
        start.close();
        end.close();
        stream.close();
    }
}
