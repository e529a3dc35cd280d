package ecar.sample;

import ecar.backend.Backend;
import ecar.family.Preset;
import ecar.family.Sampling;
import ecar.flops.CountingBackend;
import ecar.model.Progress;
import ecar.model.RandomWeights;
import ecar.model.Weights;
import ecar.tensor.Shape;
import ecar.vae.VaeDecoder;

import java.util.Locale;

/**
 * The Java heap a generation needs on the CPU backend, whose tensors are float arrays on the heap, estimated on shapes
 * before anything runs: the generator and the decoder are run on a {@link CountingBackend}, the same model code as
 * {@link Preset#memory}, and its device layout is turned into the CPU's:
 * <ul>
 * <li>weights: the counter's bytes × 2, as the CPU keeps bf16 matrices in float32 (its float32 vectors are doubled
 *     too, an overestimate of well under 1%);</li>
 * <li>sampling activations: the counter's peak × 2. Activations are float32 on both backends, but the CPU keeps KV
 *     caches in float32 where the counter counts bf16, and reuses arrays only of the same length
 *     (ecar.backend.cpu.CpuScratch); the GPU's transient bf16 operand copies, which the CPU does not make, stay in as
 *     margin;</li>
 * <li>decode activations: the counter's peak for one image (the decoder works one image at a time), float32 on both.
 *     Added to the sampling's, not overlapping it: the CPU keeps the sampling's arrays (up to 2 GiB) for reuse;</li>
 * <li>attention scores: the CPU's attention holds one head's Lq × Lk floats per thread, and keeps the buffer (the GPU's
 *     flash kernels hold none): the generator's largest on every thread; the decoder's one-head attention runs on the
 *     calling thread alone;</li>
 * <li>pictures: the pixels in float32, one 8-bit image per label and the grid: 20 bytes a pixel;</li>
 * <li>the runtime itself (classes, the command line): 64 MiB;</li>
 * <li>and a quarter more of all that, room for the collector: multi-megabyte arrays are placed whole.</li>
 * </ul>
 * Checked against real runs of {@code generate} (one label, G1, the JVM's default collector; the launcher's
 * ParallelGC needs less), as -Xmx that ran out / -Xmx that finished / this estimate, in MiB: dit-tiny 512² 640 / 720 /
 * 964; dit-tiny 1024² 3200 / 4096 / 4680; dit-s-2 256² 1600 / 2000 / 2212; ecar-s 256² 2200 / 2600 / 2536 (with
 * ParallelGC it finished in 2000). The estimate lay above every heap that ran out and at most 1.34 times one that
 * finished: refusing a run that would just have fitted costs a retry with a larger heap, running out costs the minutes
 * already spent sampling.
 */
public record HeapEstimate(long weights, long sampling, long attentionScores, long decode, long pictures) {
    /** What the JVM holds before any model: loaded classes, picocli, ImageIO. */
    static final long RUNTIME_BYTES = 64L << 20;

    public long total() {
        long live = weights + sampling + attentionScores + decode + pictures + RUNTIME_BYTES;
        return live + live / 3;
    }

    /** The estimate for a batch of {@code batch} images with these settings, on a CPU backend of {@code threads} threads. */
    public static HeapEstimate of(Preset preset, Sampling s, int batch, int threads) {
        if (batch <= 0 || threads <= 0) throw new IllegalArgumentException("batch " + batch + " and threads " + threads + " must be positive");
        CountingBackend gen = new CountingBackend();
        var generator = preset.family().load(preset, new Weights(new RandomWeights(0), gen));
        try (Backend.Scope scope = gen.scope()) {
            generator.sample(new int[batch], s, 0, Progress.NONE);
        }
        CountingBackend dec = new CountingBackend();   // the decode runs one image at a time
        VaeDecoder decoder = VaeDecoder.load(preset.vae(), new RandomWeights(1), dec);
        int side = preset.architecture().latentSide();
        try (Backend.Scope scope = dec.scope()) {
            decoder.decodeRaw(dec.zeros(Shape.of(1, preset.latentChannels(), side, side)));
        }
        long genScores = gen.largestAttentionScores(), scores = Math.max(genScores, dec.largestAttentionScores()) + (threads - 1L) * genScores;
        long pixels = (long) batch * preset.imageSize() * preset.imageSize();
        return new HeapEstimate(2 * (gen.memory().weightBytes() + dec.memory().weightBytes()), 2 * gen.memory().peakActivationBytes(),
                4L * scores, dec.memory().peakActivationBytes(), 20 * pixels);
    }

    /** "about 5.2 GiB (weights 0.1, sampling 2.0, attention scores 2.0, decode 1.1, pictures 0.1 GiB, and room to collect)". */
    public String describe() {
        return String.format(Locale.ROOT, "about %s (weights %s, sampling %s, attention scores %s, decode %s, pictures %s GiB, and room to collect)",
                gib(total()) + " GiB", gib(weights), gib(sampling), gib(attentionScores), gib(decode), gib(pictures));
    }

    private static String gib(long bytes) {
        double g = bytes / (double) (1L << 30);
        return String.format(Locale.ROOT, g >= 10 ? "%.0f" : g >= 0.1 ? "%.1f" : "%.2f", g);
    }
}
