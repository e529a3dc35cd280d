package ecar.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds out once whether a CUDA GPU can be used: JCuda's driver library must load (it needs libcuda.so.1),
 * cuInit must succeed and a device must exist. Without a GPU the first JCuda call throws UnsatisfiedLinkError
 * and later ones NoClassDefFoundError, so the probe runs once, catches everything and remembers why.
 */
public final class CudaProbe {
    private CudaProbe() {}

    /** One device as the driver reports it. */
    public record Device(int ordinal, String name, int major, int minor, long totalMemory, int multiprocessors) {
        public String computeCapability() {
            return major + "." + minor;
        }
    }

    /** The outcome: devices found, the driver's CUDA version, or the reason there is no GPU backend. */
    public record Result(boolean available, List<Device> devices, int driverVersion, String reason) {}

    private static volatile Result result;

    public static Result probe() {
        Result r = result;
        if (r == null) {
            synchronized (CudaProbe.class) {
                if (result == null) result = run();
                r = result;
            }
        }
        return r;
    }

    public static boolean available() {
        return probe().available();
    }

    private static Result run() {
        if (Boolean.getBoolean("ecar.noGpu") || "1".equals(System.getenv("ECAR_NO_GPU"))) {
            return new Result(false, List.of(), 0, "disabled by ECAR_NO_GPU / -Decar.noGpu");
        }
        try {
            return Driver.query();
        } catch (UnsatisfiedLinkError e) {
            return new Result(false, List.of(), 0, "the CUDA driver library could not be loaded (" + firstLine(e.getMessage())
                    + "); this machine has no NVIDIA driver (libcuda.so.1)");
        } catch (NoClassDefFoundError e) {
            return new Result(false, List.of(), 0, "JCuda is unusable here (" + firstLine(e.getMessage()) + ")");
        } catch (Throwable e) {
            return new Result(false, List.of(), 0, e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "no message";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The JCuda calls, in their own class so that nothing JCuda is linked until the probe runs. */
    private static final class Driver {
        static Result query() {
            jcuda.driver.JCudaDriver.setExceptionsEnabled(true);
            jcuda.driver.JCudaDriver.cuInit(0);
            int[] v = new int[1];
            jcuda.driver.JCudaDriver.cuDriverGetVersion(v);
            int[] count = new int[1];
            jcuda.driver.JCudaDriver.cuDeviceGetCount(count);
            if (count[0] == 0) return new Result(false, List.of(), v[0], "the NVIDIA driver reports no CUDA device");
            List<Device> devices = new ArrayList<>();
            for (int i = 0; i < count[0]; i++) {
                jcuda.driver.CUdevice dev = new jcuda.driver.CUdevice();
                jcuda.driver.JCudaDriver.cuDeviceGet(dev, i);
                byte[] name = new byte[256];
                jcuda.driver.JCudaDriver.cuDeviceGetName(name, name.length, dev);
                long[] mem = new long[1];
                jcuda.driver.JCudaDriver.cuDeviceTotalMem(mem, dev);
                int[] major = new int[1], minor = new int[1], sms = new int[1];
                jcuda.driver.JCudaDriver.cuDeviceGetAttribute(major, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
                jcuda.driver.JCudaDriver.cuDeviceGetAttribute(minor, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
                jcuda.driver.JCudaDriver.cuDeviceGetAttribute(sms, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
                int len = 0;
                while (len < name.length && name[len] != 0) len++;
                devices.add(new Device(i, new String(name, 0, len, java.nio.charset.StandardCharsets.US_ASCII), major[0], minor[0], mem[0], sms[0]));
            }
            return new Result(true, devices, v[0], "");
        }
    }
}
