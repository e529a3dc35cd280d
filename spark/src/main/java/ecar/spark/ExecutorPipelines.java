package ecar.spark;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.CudaContext;
import ecar.cuda.backend.CudaBackend;
import ecar.sample.Pipeline;
import ecar.sampleset.SampleSetRun;
import ecar.sampleset.SetSpec;

import java.util.concurrent.ConcurrentHashMap;

/**
 * One pipeline per executor JVM and model, loaded by the executor's first task and reused by every later one: loading
 * weights (seconds to a minute for the paper-size models) happens once per executor, not per shard.
 */
final class ExecutorPipelines {
    private ExecutorPipelines() {}

    private static final ConcurrentHashMap<String, Pipeline> LOADED = new ConcurrentHashMap<>();

    /**
     * The executor's pipeline for the set's model on {@code backend}: "cpu"; "cuda", on the task's GPU (its address from
     * Spark's resources) or on ECAR_CUDA_DEVICE when the task has none; "auto", the GPU when the task was given one.
     */
    static Pipeline get(SetSpec spec, String backend) {
        int gpu = GpuAddress.ofCurrentTask();
        String kind = switch (backend) {
            case "cpu", "cuda" -> backend;
            case "auto" -> gpu >= 0 ? "cuda" : "cpu";
            default -> throw new IllegalArgumentException("--backend " + backend + ": expected cpu, cuda or auto");
        };
        String key = spec.model() + "|" + spec.imageSize() + "|" + kind;
        return LOADED.computeIfAbsent(key, k -> SampleSetRun.load(spec, open(kind, gpu)));
    }

    private static Backend open(String kind, int gpu) {
        if (kind.equals("cpu")) return new CpuBackend();
        if (gpu >= 0) CudaContext.useDevice(gpu);
        return new CudaBackend();
    }
}
