package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.CpuBackend;
import ecar.cuda.CudaProbe;

/** The backend the CLI runs on: the GPU when a device and the kernels are present, else the CPU. */
final class Backends {
    private Backends() {}

    static Backend select(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> new CpuBackend();
            case "auto" -> {
                if (CudaProbe.available() && KernelsInfo.present()) {
                    System.err.println("ecar: a GPU is present but this build has no CUDA backend yet; running on the CPU");
                }
                yield new CpuBackend();
            }
            case "cuda", "gpu" -> throw new UserError("no CUDA backend in this build: " + (CudaProbe.available()
                    ? "the GPU backend is not part of this build" : CudaProbe.probe().reason()));
            default -> throw new UserError("--backend " + name + ": expected cpu, cuda or auto");
        };
    }
}
