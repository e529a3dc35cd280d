package ecar.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * A captured sequence of launches replayed with one call: capture once (cuStreamBeginCapture …
 * cuStreamEndCapture, cuGraphInstantiate(exec, graph, 0)), then {@link #launch(Stream)} per sampling step. Per-step
 * scalars must live in device memory updated before each replay: the captured kernel arguments are fixed.
 */
public final class CudaGraph implements AutoCloseable {
    /**
     * Held for the whole of a capture. Work from other threads that synchronizes the context or frees memory (the GPU
     * backend's Cleaner) takes it too, so that it never lands inside a capture, where it would break it.
     */
    public static final Object CAPTURE_LOCK = new Object();

    private final CUgraph graph;
    private final CUgraphExec exec;
    private boolean closed;

    private CudaGraph(CUgraph graph, CUgraphExec exec) {
        this.graph = graph;
        this.exec = exec;
    }

    /** Records what {@code body} queues on {@code stream} (nothing runs during capture) and instantiates it. */
    public static CudaGraph capture(Stream stream, Runnable body) {
        synchronized (CAPTURE_LOCK) {
            return captureLocked(stream, body);
        }
    }

    private static CudaGraph captureLocked(Stream stream, Runnable body) {
        CudaContext.get();
        CudaErrors.call("cuStreamBeginCapture", () -> JCudaDriver.cuStreamBeginCapture(stream.handle(), CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
        CUgraph g = new CUgraph();
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            try {
                JCudaDriver.cuStreamEndCapture(stream.handle(), g);
                JCudaDriver.cuGraphDestroy(g);
            } catch (RuntimeException ignored) {
                // the capture is invalid already; the body's failure is the one to report
            }
            throw e;
        }
        CudaErrors.call("cuStreamEndCapture (a launch in the captured body failed or used another stream)",
                () -> JCudaDriver.cuStreamEndCapture(stream.handle(), g));
        CUgraphExec x = new CUgraphExec();
        try {
            CudaErrors.call("cuGraphInstantiate", () -> JCudaDriver.cuGraphInstantiate(x, g, 0));
        } catch (RuntimeException e) {
            JCudaDriver.cuGraphDestroy(g);
            throw e;
        }
        return new CudaGraph(g, x);
    }

    public void launch(Stream stream) {
        if (closed) throw new IllegalStateException("graph launched after close");
        CudaErrors.call("cuGraphLaunch", () -> JCudaDriver.cuGraphLaunch(exec, stream.handle()));
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaContext.get();
        CudaErrors.call("cuGraphExecDestroy", () -> JCudaDriver.cuGraphExecDestroy(exec));
        CudaErrors.call("cuGraphDestroy", () -> JCudaDriver.cuGraphDestroy(graph));
    }
}
