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
 * with cuModuleLoadData, once per process, and its kernels looked up by signature and cached.
 *
 * <p>Never cuModuleLoadFatBinary: JCuda 12.6's native code for it loads the module into a local variable and does not
 * write the handle back into the Java CUmodule, so every later cuModuleGetFunction gets a null module
 * (CUDA_ERROR_INVALID_HANDLE; every GPU call failed on an H100 that way). cuModuleLoadData takes the same fatbin image
 * and stores the handle; {@link #get} also checks that it did. NoFatBinaryLoadTest keeps the bad call out of the build.
 */
public final class KernelModule {
    /** Every family kernels/build.sh packages (kernels/NAME.cu → NAME.fatbin); the CUDA backend launches them all. */
    public static final java.util.List<String> FAMILIES = java.util.List.of("attention", "attention_sm90", "flow", "gemm", "gemm_skinny", "gemm_sm90", "conv", "norm", "embed", "elementwise",
            "diffusion", "sample");

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
            Handle m = new Handle();
            int driver = CudaProbe.probe().driverVersion();
            CudaErrors.call("cuModuleLoadData of kernels/" + f + ".fatbin on " + ctx.device().name() + " (compute capability "
                    + ctx.device().computeCapability() + ", driver for CUDA " + driver / 1000 + "." + (driver % 1000) / 10
                    + "; the fatbin holds SASS for sm_80 (which sm_86 and sm_89 run), sm_90, sm_90a and compute_90 PTX from the build machine's nvcc: "
                    + "a driver older than that toolkit cannot load it, and a GPU below sm_80 has no code in it)",
                    () -> JCudaDriver.cuModuleLoadData(m, image));
            if (m.value() == 0) {
                throw new IllegalStateException("cuModuleLoadData of kernels/" + f + ".fatbin returned success but left the module handle null "
                        + "(the JCuda binding did not store it); no kernel of this family can be looked up");
            }
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

    /** The driver's module handle (non-zero once loaded). */
    public long handle() {
        return ((Handle) module).value();
    }

    /** A CUmodule that tells the handle the driver wrote into it (JCuda keeps it protected). */
    private static final class Handle extends CUmodule {
        long value() {
            return getNativePointer();
        }
    }
}
