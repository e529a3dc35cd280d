package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.backend.cpu.Parallel;
import ecar.cuda.backend.CudaBackend;
import ecar.cuda.backend.DeviceTimer;
import ecar.family.Preset;
import ecar.model.Progress;
import ecar.sample.GenerateRequest;
import ecar.sample.HeapEstimate;
import ecar.sample.Pipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ecar profile --model NAME}: where one generation's time goes, op by op ({@link OpTimes}): one generation to warm
 * up, then one timed, printed as a table of ops (matrix products by shape, with their FLOP rate), the longest first.
 * On the GPU the sampling graphs are off and the table shows device time: each op is held back by a short gate kernel
 * until the host has queued all of it, and CUDA events around its kernels time them back to back (DeviceTimer), so
 * the host's launch gaps, which graphs remove, drop out too; the sum is what kernels alone cost, beside the latency
 * {@code compare} measures. Sampling only, as {@code compare} times it (no VAE decode). On the GPU the timed generation
 * is a profiler range (cuProfilerStart/Stop): {@code ncu --profile-from-start off} measures it and not the loading or
 * the warm-up; with {@code --keep-graphs} it runs as {@code compare} runs it.
 */
@Command(name = "profile", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Where one generation's time goes: every backend op timed (on the GPU its kernels' device time, the sampling",
        "graphs off), printed longest first, matrix products by shape with their GFLOP/s. Random weights; sampling only."})
final class ProfileCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "NAME", description = "preset (ecar flops --model list for the list)")
    String model;

    @Option(names = "--batch", paramLabel = "N", description = "images generated together (default 1)")
    int batch = 1;

    @Option(names = "--top", paramLabel = "N", description = "rows of the table (default 25; the rest summed in one line)")
    int top = 25;

    @Option(names = "--seed", description = "seed of the noise and the random weights (default 0)")
    long seed;

    @Option(names = "--backend", paramLabel = "cpu|cuda|auto", description = Backends.HELP)
    String backendName = "auto";

    @Option(names = "--keep-graphs", description = {"GPU: keep the sampling graphs on and do not wait after each op, so that",
            "the timed generation runs as compare times it (the table then shows the host's side only). For a profiler",
            "attached with --profile-from-start off, which measures the timed generation alone:",
            "ncu --profile-from-start off --metrics gpu__time_duration.sum ecar profile --keep-graphs ... (tools/kernel_times.py)"})
    boolean keepGraphs;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() {
        if (batch <= 0) throw new UserError("--batch must be positive, got " + batch);
        if (top <= 0) throw new UserError("--top must be positive, got " + top);
        Preset preset = sampling.applyArchitecture(ModelCatalog.preset(model));
        Backend device = Backends.select(backendName);
        OpTimes times;
        String how;
        DeviceTimer timer = null;
        if (device instanceof CudaBackend && keepGraphs) {
            times = OpTimes.around(device, null);
            how = "sampling graphs on, the GPU not waited for: the host's side only";
        } else if (device instanceof CudaBackend gpu) {
            gpu.useGraphs(false);
            DeviceTimer gated = gpu.deviceTimer(DeviceTimer.DEFAULT_GATE_NANOS);
            timer = gated;
            times = OpTimes.onDevice(device, new OpTimes.DeviceClock() {
                public Object open() {
                    return gated.open();
                }

                public void close(Object interval) {
                    ((DeviceTimer.Interval) interval).close();
                }

                public double[] read(Object interval) {
                    return ((DeviceTimer.Interval) interval).read();
                }
            });
            how = "device time of each op's kernels: sampling graphs off, each op held back by a "
                    + DeviceTimer.DEFAULT_GATE_NANOS / 1000 + " µs gate until the host has queued it, so the host's launch gaps drop out";
        } else if (keepGraphs) {
            throw new UserError("--keep-graphs is for the GPU; " + device.name() + " has no sampling graphs");
        } else {
            times = OpTimes.around(device, null);
            how = "each op timed on the host";
        }
        Pipeline pipe = Pipeline.random(preset, seed, times.backend());
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = (207 + 153 * i) % preset.numClasses();
        GenerateRequest request = sampling.request(GenerateRequest.of(labels).seed(seed));
        pipe.check(request);
        if (device instanceof CpuBackend) {   // before minutes of sampling, not after: as generate does
            HeapCheck.require(HeapEstimate.of(preset, pipe.settings(request), batch, Parallel.threads()), Runtime.getRuntime().maxMemory(),
                    String.format(Locale.ROOT, "%s, %d image%s of %d²,", preset.name(), batch, batch == 1 ? "" : "s", preset.imageSize()));
        }
        System.err.printf(Locale.ROOT, "ecar: profiling %s on %s, batch %d, %s: one generation to warm up, one timed%n", preset.name(), device.name(),
                batch, pipe.settings(request).describe());
        pipe.sampleLatents(request, Progress.NONE);
        times.start();
        long launches0 = timer != null ? ecar.cuda.Kernel.launches() : 0, gates0 = gates(timer);   // the GPU's classes only on a GPU
        long prologues0 = device instanceof CudaBackend cuda ? cuda.normPrologues() : 0;
        long t0 = System.nanoTime();
        try (ecar.cuda.CudaContext.ProfilerRange range = device instanceof CudaBackend ? ecar.cuda.CudaContext.get().profilerRange() : () -> {}) {
            pipe.sampleLatents(request, Progress.NONE);
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        System.out.print(format(preset.name() + " on " + device.name() + ", batch " + batch + " (" + how + ")", wall, times.rows(), top,
                times.deviceTime()));
        if (timer != null) {   // graphs off: every kernel of the generation went through a launch (the gates left out)
            long kernels = ecar.cuda.Kernel.launches() - launches0 - (gates(timer) - gates0);
            System.out.printf(Locale.ROOT, "kernels: %d launched for the generation, %.2f an op call (each one boundary that programmatic launch, "
                    + "ECAR_PDL=on, can overlap)%n", kernels, kernels / (double) Math.max(1, calls(times.rows())));
        }
        if (device instanceof CudaBackend cuda && cuda.normPrologues() > prologues0) {
            System.out.printf(Locale.ROOT, "norm prologues: %d norms ran inside the GEMM that read them (ECAR_NORM_PROLOGUE=on), a launch fewer each%n",
                    cuda.normPrologues() - prologues0);
        }
        if (times.gappedIntervals() > 0) {
            System.out.printf(Locale.ROOT, "note: the host took longer than the gate to queue %d op call%s: their device time includes the host's gaps%n",
                    times.gappedIntervals(), times.gappedIntervals() == 1 ? "" : "s");
        }
        return 0;
    }

    private static long gates(DeviceTimer timer) {
        return timer == null ? 0 : timer.gates();
    }

    private static double seconds(List<OpTimes.Row> rows) {
        double s = 0;
        for (OpTimes.Row r : rows) s += r.seconds();
        return s;
    }

    private static long calls(List<OpTimes.Row> rows) {
        long n = 0;
        for (OpTimes.Row r : rows) n += r.calls();
        return n;
    }

    /** The table of host times: a header with the wall time and the ops' sum, then the ops longest first, the rest in one line. */
    static String format(String what, double wall, List<OpTimes.Row> rows, int top) {
        return format(what, wall, rows, top, false);
    }

    /**
     * The table: a header with the wall time and the ops' sum, then the ops longest first, the rest in one line.
     * deviceTime: the rows hold device time (the wall time then includes the gates and waits that measuring it took).
     */
    static String format(String what, double wall, List<OpTimes.Row> rows, int top, boolean deviceTime) {
        double total = seconds(rows);
        long calls = calls(rows);
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "ecar profile: %s%n", what));
        if (deviceTime) {
            b.append(String.format(Locale.ROOT, "one generation: %.3f s wall with the gates; %d op calls of %d kinds kept the device busy %.3f s "
                    + "(kernels alone: what graphs and fewer launches cannot remove)%n", wall, calls, rows.size(), total));
        } else {
            b.append(String.format(Locale.ROOT, "one generation: %.3f s wall; %d op calls of %d kinds took %.3f s of it%n", wall, calls, rows.size(), total));
        }
        b.append(String.format(Locale.ROOT, "%-52s %7s %10s %7s %9s %9s%n", "op", "calls", deviceTime ? "device ms" : "total ms", "share", "mean us", "GFLOP/s"));
        for (int i = 0; i < Math.min(top, rows.size()); i++) {
            OpTimes.Row r = rows.get(i);
            String rate = r.flops() > 0 && r.seconds() > 0 ? String.format(Locale.ROOT, "%9.1f", r.flops() / r.seconds() / 1e9) : "";
            String line = String.format(Locale.ROOT, "%-52s %7d %10.3f %6.1f%% %9.1f %s", r.op(), r.calls(), 1e3 * r.seconds(), 100 * r.share(total),
                    1e6 * r.seconds() / r.calls(), rate);
            b.append(line.stripTrailing()).append('\n');
        }
        if (rows.size() > top) {
            List<OpTimes.Row> rest = rows.subList(top, rows.size());
            double s = seconds(rest);
            long n = calls(rest);
            b.append(String.format(Locale.ROOT, "%-52s %7d %10.3f %6.1f%%%n", "(" + rest.size() + " more)", n, 1e3 * s, total > 0 ? 100 * s / total : 0));
        }
        return b.toString();
    }
}
