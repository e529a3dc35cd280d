package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.CpuBackend;
import ecar.backend.CudaBackend;
import ecar.cuda.CudaProbe;

/**
 * The backend the CLI runs on. Every op of the CUDA backend is wired (issue 6), but none of it has run on a GPU yet:
 * until a GPU run has passed its tests, "auto" stays on the CPU (the numerical reference) and says that the GPU is
 * there, and "cuda" is how a user (or that GPU run) opts in.
 */
final class Backends {
    private Backends() {}

    /** The --backend option's help. */
    static final String HELP = "backend (default auto: the CPU while the GPU path is unverified; cuda runs on the GPU)";

    /** One line on the CUDA backend for a machine with a GPU and the kernels. */
    static String cudaStatus() {
        return "the CUDA backend is complete but not yet verified on a GPU; --backend cuda uses it";
    }

    static Backend select(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> new CpuBackend();
            case "auto" -> {
                if (CudaProbe.available() && KernelsInfo.complete()) System.err.println("ecar: GPU present: " + cudaStatus() + "; running on the CPU");
                yield new CpuBackend();
            }
            case "cuda", "gpu" -> cuda();
            default -> throw new UserError("--backend " + name + ": expected cpu, cuda or auto");
        };
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
