package ecar.cli;

import ecar.backend.Backend;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times the models of a {@link ComparePlan} on one backend: each model is loaded once with random weights, then at
 * every batch size warmed up (so the timed runs see compiled code and captured steps) and generated
 * {@code repeats} times; the median latency is kept, with the highest peak memory of those runs. A batch that runs
 * out of memory becomes a row saying so, and the run goes on with the next batch and model.
 */
final class CompareBenchmark {
    private final Backend backend;
    private final PrintStream progress;

    CompareBenchmark(Backend backend, PrintStream progress) {
        this.backend = backend;
        this.progress = progress;
    }

    /**
     * Every model of the plan in order. A failure other than running out of memory (a kernel error, a broken
     * invariant) stops the run — the device may be unusable after it — as {@link Aborted}, which keeps the results of
     * the models measured before it, so that they can still be reported.
     */
    List<CompareResult> measureAll(ComparePlan plan) {
        List<CompareResult> results = new ArrayList<>();
        for (ComparePlan.Model m : plan.models()) {
            try {
                results.add(measure(m, plan));
            } catch (RuntimeException e) {
                throw new Aborted(m.name(), results, e);
            }
        }
        return results;
    }

    /** The run stopped at {@code model}; {@code measured} holds the results of the models before it. */
    static final class Aborted extends RuntimeException {
        final String model;
        final List<CompareResult> measured;

        Aborted(String model, List<CompareResult> measured, RuntimeException cause) {
            super(model + " failed: " + message(cause) + note(measured), cause);
            this.model = model;
            this.measured = List.copyOf(measured);
        }

        /** The line for the command line: the model, then the cause as {@code Main} describes any error. */
        String describe(java.util.function.Function<Throwable, String> cause) {
            return model + " failed: " + cause.apply(getCause()) + note(measured);
        }

        private static String note(List<CompareResult> measured) {
            return measured.isEmpty() ? "" : " (the models measured before it are reported above)";
        }
    }

    CompareResult measure(ComparePlan.Model m, ComparePlan plan) {
        PeakMemory.start(backend);   // frees the previous model's weights first where that matters (a GPU)
        long t0 = System.nanoTime();
        Pipeline pipe;
        try {
            pipe = Pipeline.random(m.preset(), plan.seed(), backend);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (!isOutOfMemory(e)) throw e;
            progress.printf(Locale.ROOT, "%s: out of memory while loading the weights (%s) — going on%n", m.name(), message(e));
            List<BatchMeasurement> none = plan.batches().stream()
                    .map(b -> BatchMeasurement.outOfMemory(b, "loading the weights: " + message(e))).toList();
            return new CompareResult(m, -1, Double.NaN, none);
        }
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        List<BatchMeasurement> batches = new ArrayList<>();
        for (int batch : plan.batches()) batches.add(measure(pipe, m, batch, plan));
        return new CompareResult(m, pipe.parameters(), loadSeconds, batches);
    }

    private BatchMeasurement measure(Pipeline pipe, ComparePlan.Model m, int batch, ComparePlan plan) {
        String label = m.name() + " batch " + batch;
        GenerateRequest request = GenerateRequest.of(labels(batch, m.preset().numClasses())).seed(plan.seed());
        ProgressBar bar = new ProgressBar(label, progress);
        try {
            progress.printf(Locale.ROOT, "%s: warming up…%n", label);
            pipe.warmUp(request);
            double[] times = new double[plan.repeats()];
            long peak = -1;
            for (int r = 0; r < times.length; r++) {
                PeakMemory.start(backend);   // after the load: the model's weights count toward the peak
                long s0 = System.nanoTime();
                pipe.sampleLatents(request, bar);
                times[r] = (System.nanoTime() - s0) / 1e9;
                peak = Math.max(peak, backend.peakMemoryBytes());
            }
            bar.finish();
            Arrays.sort(times);
            return BatchMeasurement.measured(batch, times[times.length / 2], peak);
        } catch (RuntimeException | OutOfMemoryError e) {
            bar.finish();
            if (!isOutOfMemory(e)) throw e;
            progress.printf(Locale.ROOT, "%s: out of memory (%s) — going on%n", label, message(e));
            return BatchMeasurement.outOfMemory(batch, message(e));
        }
    }

    /**
     * The device arena says "is out of memory", the driver CUDA_ERROR_OUT_OF_MEMORY, the JVM throws OutOfMemoryError
     * (the CPU backend's activations are Java arrays); anywhere in the cause chain.
     */
    static boolean isOutOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) return true;
            String msg = t.getMessage();
            if (msg != null && msg.toLowerCase(Locale.ROOT).replace('_', ' ').contains("out of memory")) return true;
        }
        return false;
    }

    private static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** A spread of class labels, the same for every model (207: golden retriever). */
    private static int[] labels(int batch, int classes) {
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = (207 + 153 * i) % classes;
        return labels;
    }
}
