package ecar.cuda;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One kernel family: the class-path resource {@code kernels/<family>.fatbin} (built by kernels/build.sh) loaded
 * with cuModuleLoadFatBinary, once per process, and its kernels looked up by signature and cached.
 */
public final class KernelModule {
    private static final Map<String, KernelModule> LOADED = new ConcurrentHashMap<>();

    private final String family;
    private final CUmodule module;
    private final Map<String, Kernel> kernels = new ConcurrentHashMap<>();

    private KernelModule(String family, CUmodule module) {
        this.family = family;
        this.module = module;
    }

    /** The loaded family (loading it on first use). */
    public static KernelModule get(String family) {
        return LOADED.computeIfAbsent(family, f -> {
            byte[] image = fatbin(f);
            CudaContext ctx = CudaContext.get();
            CUmodule m = new CUmodule();
            int driver = CudaProbe.probe().driverVersion();
            CudaErrors.call("cuModuleLoadFatBinary of kernels/" + f + ".fatbin on " + ctx.device().name() + " (compute capability "
                    + ctx.device().computeCapability() + ", driver for CUDA " + driver / 1000 + "." + (driver % 1000) / 10
                    + "; the fatbin holds SASS for sm_80, sm_89, sm_90, sm_90a and compute_90 PTX from the build machine's nvcc: "
                    + "a driver older than that toolkit cannot load it, and a GPU below sm_80 has no code in it)",
                    () -> JCudaDriver.cuModuleLoadFatBinary(m, image));
            return new KernelModule(f, m);
        });
    }

    /** The bytes of kernels/&lt;family&gt;.fatbin from the class path; fails with the reason when the build made none. */
    static byte[] fatbin(String family) {
        String path = "/kernels/" + family + ".fatbin";
        try (InputStream in = KernelModule.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("kernels/" + family + ".fatbin is not on the class path: kernels were not built: "
                        + "nvcc was missing at build time (install the CUDA toolkit and rebuild)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("kernels/" + family + ".fatbin could not be read: " + e.getMessage(), e);
        }
    }

    /** The kernel with this signature (its name must be an extern "C" entry point of the family). */
    public Kernel kernel(String signature) {
        return kernels.computeIfAbsent(signature, s -> {
            KernelSignature sig = KernelSignature.parse(s);
            CudaContext.get();
            CUfunction fn = new CUfunction();
            CudaErrors.call("cuModuleGetFunction(" + sig.name() + ") in kernels/" + family + ".fatbin",
                    () -> JCudaDriver.cuModuleGetFunction(fn, module, sig.name()));
            return new Kernel(family, sig, fn);
        });
    }

    public String family() {
        return family;
    }
}
