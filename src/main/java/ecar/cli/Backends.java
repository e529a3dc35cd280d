package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.backend.CudaBackend;
import ecar.cuda.CudaContext;
import ecar.cuda.CudaProbe;
import ecar.selfcheck.AutoChoice;
import ecar.selfcheck.GpuSelfCheck;
import ecar.selfcheck.SelfCheckKey;
import ecar.selfcheck.VerdictCache;

import java.time.Clock;
import java.util.Optional;

/**
 * The backend the CLI runs on. "auto" uses the GPU only once it has passed a short self-check against the CPU
 * reference on this device, driver and build (see {@link AutoChoice}; the verdict is cached), because the CUDA path
 * is young and a wrong picture is worse than a slow one; "cuda" forces the GPU without the check, "cpu" the reference.
 */
final class Backends {
    private Backends() {}

    /** The --backend option's help. */
    static final String HELP = "backend (default auto: the GPU once it has passed its self-check against the CPU, else the CPU; "
            + "cuda forces the GPU; " + AutoChoice.ENV + "=0 keeps auto on the CPU)";

    /** The self-check's device backend: a modest arena, as the tiny presets need little. */
    private static final long CHECK_ARENA = 512L << 20;

    static Backend select(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> new CpuBackend();
            case "auto" -> {
                CudaProbe.Result gpu = CudaProbe.probe();
                Optional<String> bad = deviceProblem(gpu, System.getenv(CudaContext.DEVICE_ENV));
                if (bad.isEmpty()) yield auto(gpu, KernelsInfo.complete(), choice());
                // not offered to the self-check: its failure would be cached for this GPU and outlive the typo
                System.err.println("ecar: " + bad.get() + " — using the CPU backend");
                yield new CpuBackend();
            }
            case "cuda", "gpu" -> cuda();
            default -> throw new UserError("--backend " + name + ": expected cpu, cuda or auto");
        };
    }

    /** "auto" with what the machine offers and the decision's parts given: tested without a GPU. */
    static Backend auto(CudaProbe.Result gpu, boolean kernelsComplete, AutoChoice choice) {
        AutoChoice.Decision d = choice.decide(offer(gpu, kernelsComplete));
        if (d.message() != null) System.err.println(d.message());
        if (!d.useGpu()) return new CpuBackend();
        try {
            return new CudaBackend();
        } catch (RuntimeException | LinkageError e) {   // passed its check, yet does not open now (memory taken?): still run
            System.err.println("ecar: the CUDA backend did not open (" + e.getMessage() + ") — using the CPU backend");
            return new CpuBackend();
        }
    }

    /** What is wrong with the device variable's value on this machine, when there is a GPU it could select. */
    static Optional<String> deviceProblem(CudaProbe.Result gpu, String env) {
        return gpu.available() ? CudaContext.deviceProblem(env, gpu.devices().size()) : Optional.empty();
    }

    /** The GPU the self-check would key on, when there is one with every kernel packaged. */
    static AutoChoice.Gpu offer(CudaProbe.Result gpu, boolean kernelsComplete) {
        if (!gpu.available() || gpu.devices().isEmpty() || !kernelsComplete) return AutoChoice.Gpu.absent();
        return new AutoChoice.Gpu(true, gpu.devices().get(0).name(), () -> SelfCheckKey.current(gpu));
    }

    /** The decision as the CLI makes it: the environment, the user's cache, the real check. */
    static AutoChoice choice() {
        Clock clock = Clock.systemDefaultZone();
        return new AutoChoice(System.getenv(), cache(), new GpuSelfCheck(() -> new CudaBackend(CHECK_ARENA), clock), clock);
    }

    static Optional<VerdictCache> cache() {
        return VerdictCache.standard();
    }

    private static Backend cuda() {
        if (!CudaProbe.available()) throw new UserError("cannot run on the GPU: " + CudaProbe.probe().reason());
        if (!KernelsInfo.complete()) {
            throw new UserError("cannot run on the GPU: the build did not package kernels " + String.join(", ", KernelsInfo.missing())
                    + " (rebuild with nvcc on the PATH)");
        }
        try {
            return new CudaBackend();
        } catch (RuntimeException | LinkageError e) {
            throw new UserError("cannot run on the GPU: " + e.getMessage());
        }
    }
}
