package ecar.bench;

import ecar.backend.cpu.CpuBackend;
import ecar.model.RandomWeights;
import ecar.model.Progress;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import ecar.vae.IndexMap;
import ecar.vae.VaeConfig;
import ecar.vae.VaeDecoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * One 256² picture decoded by the KL-16 (ECAR, FlowAR), SD f8 (DiT) and VQ-16 (ARPG) decoders on the CPU backend:
 * the cost every generated image pays after sampling. Weights are random: the time does not depend on them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class VaeDecodeBench {
    @Param({"kl16", "sd-f8", "vq16"})
    public String vae;

    private VaeDecoder decoder;
    private Tensor latent;

    @Setup
    public void setup() {
        CpuBackend cpu = new CpuBackend();
        VaeConfig c = VaeConfig.named(vae);
        decoder = VaeDecoder.load(c, new RandomWeights(0), cpu);
        int side = 256 / c.factor();
        latent = c.kind() == VaeConfig.Kind.VQ ? cpu.upload(randomTokens(c.codebookSize(), side))
                : cpu.randn(Shape.of(1, c.embedDim(), side, side), 1, 0);
    }

    /** An index map of uniformly drawn token ids, as a discrete-token generator hands it over. */
    private static FloatTensor randomTokens(int codebookSize, int side) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(0);
        return IndexMap.of(r.ints(side * side, 0, codebookSize).toArray(), 1, side);
    }

    @Benchmark
    public FloatTensor decode() {
        return decoder.decodeImages(latent, Progress.NONE);
    }
}
