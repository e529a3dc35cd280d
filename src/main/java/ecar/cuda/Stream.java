package ecar.cuda;

import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/** A non-blocking CUDA stream (it does not synchronize with the legacy default stream; graphs capture on it). */
public final class Stream implements AutoCloseable {
    private final CUstream handle;
    private boolean closed;

    public Stream() {
        CudaContext.get();
        handle = new CUstream();
        CudaErrors.call("cuStreamCreate", () -> JCudaDriver.cuStreamCreate(handle, CUstream_flags.CU_STREAM_NON_BLOCKING));
    }

    public CUstream handle() {
        if (closed) throw new IllegalStateException("stream used after close");
        return handle;
    }

    /** Waits until all work queued on the stream has finished; reports an asynchronous kernel fault here. */
    public void synchronize() {
        CudaContext.get();
        CudaErrors.call("cuStreamSynchronize (an error here comes from an earlier asynchronous launch or copy)",
                () -> JCudaDriver.cuStreamSynchronize(handle()));
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaContext.get();
        CudaErrors.call("cuStreamDestroy", () -> JCudaDriver.cuStreamDestroy(handle));
    }
}
