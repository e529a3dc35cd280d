package ecar.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * The one CUDA context of the process: the primary context of the selected device (ECAR_CUDA_DEVICE, default 0),
 * retained once and made current on whichever Java thread calls {@link #enter()} (the driver keeps a current
 * context per OS thread). Created only when {@link CudaProbe} found a usable GPU.
 */
public final class CudaContext {
    private static volatile CudaContext instance;

    private final CUcontext context;
    private final CudaProbe.Device device;
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);

    private CudaContext(CudaProbe.Device device) {
        this.device = device;
        CUdevice dev = new CUdevice();
        CudaErrors.call("cuDeviceGet(" + device.ordinal() + ")", () -> JCudaDriver.cuDeviceGet(dev, device.ordinal()));
        this.context = new CUcontext();
        CudaErrors.call("cuDevicePrimaryCtxRetain on " + device.name(), () -> JCudaDriver.cuDevicePrimaryCtxRetain(context, dev));
    }

    /** The device chosen by {@link #useDevice} before the context was made; null: ECAR_CUDA_DEVICE decides. */
    private static volatile Integer chosenOrdinal;

    /**
     * Chooses the device the process's context will use, overriding ECAR_CUDA_DEVICE: for a worker that learns its GPU at
     * run time (a Spark task's GPU address). Must come before the context exists, or name the device it already uses.
     */
    public static synchronized void useDevice(int ordinal) {
        if (ordinal < 0) throw new IllegalArgumentException("CUDA device " + ordinal + " is negative");
        CudaContext c = instance;
        if (c != null && c.device.ordinal() != ordinal) {
            throw new IllegalStateException("this process already runs on CUDA device " + c.device.ordinal() + " (" + c.device.name() + "); it cannot move to device "
                    + ordinal + ": one process, one device");
        }
        chosenOrdinal = ordinal;
    }

    /** The context, made current on the calling thread. Fails with the probe's reason when there is no GPU. */
    public static CudaContext get() {
        CudaContext c = instance;
        if (c == null) {
            synchronized (CudaContext.class) {
                if (instance == null) {
                    CudaProbe.Result r = CudaProbe.probe();
                    if (!r.available()) throw new IllegalStateException("no CUDA GPU to run on: " + r.reason());
                    Integer chosen = chosenOrdinal;
                    int ordinal = deviceOrdinal(chosen != null ? chosen.toString() : System.getenv(DEVICE_ENV), r.devices().size());
                    instance = new CudaContext(r.devices().get(ordinal));
                }
                c = instance;
            }
        }
        c.enter();
        return c;
    }

    /** Selects the device by ordinal; unset or empty: device 0. */
    public static final String DEVICE_ENV = "ECAR_CUDA_DEVICE";

    /** The device ordinal from ECAR_CUDA_DEVICE (null or empty: 0), checked against the device count. */
    static int deviceOrdinal(String env, int count) {
        deviceProblem(env, count).ifPresent(p -> {
            throw new IllegalArgumentException(p);
        });
        return env == null || env.isBlank() ? 0 : Integer.parseInt(env.strip());
    }

    /**
     * What is wrong with a value of {@value #DEVICE_ENV} when the driver reports {@code count} devices (0 when there is
     * no GPU: only the form is checked then), or empty when it selects a device or is unset.
     */
    public static java.util.Optional<String> deviceProblem(String env, int count) {
        if (env == null || env.isBlank()) return java.util.Optional.empty();
        String range = count > 0 ? "0.." + (count - 1) : "0 for the first GPU";
        int i;
        try {
            i = Integer.parseInt(env.strip());
        } catch (NumberFormatException e) {
            return java.util.Optional.of(DEVICE_ENV + "='" + env + "' is not a device number (" + range + ")");
        }
        if (i < 0) return java.util.Optional.of(DEVICE_ENV + "=" + i + " is not a device number (" + range + ")");
        if (count > 0 && i >= count) return java.util.Optional.of(DEVICE_ENV + "=" + i + " but the driver reports " + count + " device(s)");
        return java.util.Optional.empty();
    }

    /** Makes this context current on the calling thread (once per thread). */
    public void enter() {
        if (!current.get()) {
            CudaErrors.call("cuCtxSetCurrent", () -> JCudaDriver.cuCtxSetCurrent(context));
            current.set(true);
        }
    }

    public CudaProbe.Device device() {
        return device;
    }

    /** Waits for all work on the device. */
    public void synchronize() {
        enter();
        CudaErrors.call("cuCtxSynchronize", JCudaDriver::cuCtxSynchronize);
    }

    /**
     * Marks what follows, until the returned range is closed, as the part a profiler attached with
     * {@code --profile-from-start off} (Nsight Compute's ncu) should measure: cuProfilerStart, then cuProfilerStop at
     * close, after the device has finished the range's work. Without a profiler both calls do nothing.
     */
    public ProfilerRange profilerRange() {
        enter();
        CudaErrors.call("cuProfilerStart", JCudaDriver::cuProfilerStart);
        return () -> {
            synchronize();
            CudaErrors.call("cuProfilerStop", JCudaDriver::cuProfilerStop);
        };
    }

    /** A profiler range: closing it ends the range (and throws nothing checked). */
    public interface ProfilerRange extends AutoCloseable {
        @Override
        void close();
    }

    /** Free and total device memory in bytes. */
    public long[] memoryInfo() {
        enter();
        long[] free = new long[1], total = new long[1];
        CudaErrors.call("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total));
        return new long[]{free[0], total[0]};
    }
}
