package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.CpuBackend;
import ecar.cuda.CudaProbe;

/** The backend the CLI runs on: the GPU when a device and the kernels are present, else the CPU. */
final class Backends {
    private Backends() {}

    /**
     * The CUDA backend (ecar.backend.CudaBackend) is present but incomplete: it runs attention and the flow/sampler
     * ops on the GPU, while GEMM, norms, convolutions, embeddings and the diffusion updates have no kernels wired yet
     * (issue 6), so no model runs end to end on it and the CLI does not select it.
     */
    static String cudaStatus() {
        return "the CUDA backend is present but incomplete (attention and flow kernels only; gemm, norm, conv, embed and diffusion "
                + "kernels are not wired yet)";
    }

    static Backend select(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> new CpuBackend();
            case "auto" -> {
                if (CudaProbe.available() && KernelsInfo.present()) System.err.println("ecar: " + cudaStatus() + "; running on the CPU");
                yield new CpuBackend();
            }
            case "cuda", "gpu" -> throw new UserError("cannot run on the GPU: " + (CudaProbe.available() ? cudaStatus() : CudaProbe.probe().reason()));
            default -> throw new UserError("--backend " + name + ": expected cpu, cuda or auto");
        };
    }
}
