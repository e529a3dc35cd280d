package ecar.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/** A CUDA event with timing: record two on a stream, synchronize the second, read the milliseconds between. */
public final class Event implements AutoCloseable {
    private final CUevent handle;
    private boolean closed;

    public Event() {
        CudaContext.get();
        handle = new CUevent();
        CudaErrors.call("cuEventCreate", () -> JCudaDriver.cuEventCreate(handle, CUevent_flags.CU_EVENT_DEFAULT));
    }

    public void record(Stream stream) {
        CudaErrors.call("cuEventRecord", () -> JCudaDriver.cuEventRecord(handle, stream.handle()));
    }

    public void synchronize() {
        CudaErrors.call("cuEventSynchronize", () -> JCudaDriver.cuEventSynchronize(handle));
    }

    /** Milliseconds from {@code start} to this event (both recorded; this one is waited for). */
    public float elapsedSince(Event start) {
        synchronize();
        float[] ms = new float[1];
        CudaErrors.call("cuEventElapsedTime", () -> JCudaDriver.cuEventElapsedTime(ms, start.handle, handle));
        return ms[0];
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaContext.get();
        CudaErrors.call("cuEventDestroy", () -> JCudaDriver.cuEventDestroy(handle));
    }
}
