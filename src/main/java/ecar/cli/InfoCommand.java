package ecar.cli;

import ecar.backend.cpu.CpuBackend;
import ecar.cuda.CudaContext;
import ecar.cuda.CudaProbe;
import ecar.cuda.backend.CudaBackend;
import ecar.selfcheck.AutoChoice;
import ecar.selfcheck.SelfCheckKey;
import ecar.selfcheck.Verdict;
import ecar.selfcheck.VerdictCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code ecar info}: Java, the backends present, why the GPU backend is absent when it is, and the presets --model takes. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Show the Java runtime, the backends found, the GPU kernels packaged and the model presets.")
final class InfoCommand implements Callable<Integer> {

    @Option(names = "--check", description = "run the GPU self-check now (a few seconds) and store its verdict; exit 1 if it fails")
    boolean check;

    @Override
    public Integer call() {
        int code = backends();
        System.out.println("presets    --model NAME of generate, compare and flops (seeded random weights; real ones come in a model directory)");
        ModelCatalog.printPresets(System.out);
        return code;
    }

    /** Whether the CUDA backend captures sampling graphs, or what is wrong with the setting. */
    private static String graphs() {
        try {
            return ecar.cuda.backend.GraphSetting.on() ? "on (ECAR_GRAPHS=off turns them off)" : "off (ECAR_GRAPHS)";
        } catch (IllegalArgumentException e) {
            return "unset: " + e.getMessage();
        }
    }

    /** Whether kernels are launched programmatically (compute capability 9.0 and later), or what is wrong with the setting. */
    private static String programmatic(CudaProbe.Device d) {
        try {
            return ecar.cuda.LaunchDriver.programmatic(d.major()) ? "on (ECAR_PDL)"
                    : d.major() >= 9 ? "off (ECAR_PDL=on turns them on)" : "off (compute capability 9.0 has them)";
        } catch (IllegalArgumentException e) {
            return "unset: " + e.getMessage();
        }
    }

    /** Java, the CPU, the GPU and its kernels, the self-check's verdict; the exit code. */
    private int backends() {
        System.out.println("java       " + Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
        System.out.println("cpu        " + new CpuBackend().name() + ", " + System.getProperty("os.arch"));
        CudaProbe.Result gpu = CudaProbe.probe();
        if (gpu.available()) {
            System.out.println("cuda       driver " + version(gpu.driverVersion()));
            for (CudaProbe.Device d : gpu.devices()) {
                System.out.printf("gpu %d      %s, compute capability %s, %d SMs, %.1f GiB, GEMM kernels %s, sampling graphs %s, programmatic launches %s%n", d.ordinal(), d.name(),
                        d.computeCapability(), d.multiprocessors(), d.totalMemory() / (double) (1L << 30), CudaBackend.gemmPath(d),
                        graphs(), programmatic(d));
            }
        } else {
            System.out.println("gpu        none: " + gpu.reason());
        }
        String deviceEnv = System.getenv(CudaContext.DEVICE_ENV);
        Optional<String> badDevice = CudaContext.deviceProblem(deviceEnv, gpu.available() ? gpu.devices().size() : 0);
        if (badDevice.isPresent()) {
            System.out.println("device     " + badDevice.get() + ": the GPU backend will not start until it is corrected or unset");
        } else if (deviceEnv != null && !deviceEnv.isBlank()) {
            System.out.println("device     " + CudaContext.DEVICE_ENV + "=" + deviceEnv.strip() + (gpu.available() ? " selects gpu " + deviceEnv.strip() : ""));
        }
        System.out.println("kernels    " + KernelsInfo.describe());
        if (gpu.available() && KernelsInfo.present()) System.out.println("loaded     " + KernelsInfo.loadReport());
        AutoChoice.Gpu offer = badDevice.isPresent() ? AutoChoice.Gpu.absent() : Backends.offer(gpu, KernelsInfo.complete());
        if (!offer.ready()) {
            if (check) throw new UserError("cannot run the GPU self-check: " + (badDevice.isPresent() ? badDevice.get()
                    : gpu.available() ? "the build did not package kernels " + String.join(", ", KernelsInfo.missing()) : "no GPU: " + gpu.reason()));
            System.out.println("backend    cpu will be used");
            return 0;
        }
        SelfCheckKey key = offer.key().get();
        Optional<VerdictCache> cache = Backends.cache();
        // info only reads the verdict: the check costs seconds and opens the GPU, so it runs when asked (--check) or on first use.
        Optional<Verdict> v = check ? Optional.of(Backends.choice().runAndStore(key)) : cache.flatMap(c -> c.read(key));
        System.out.println("selfcheck  " + describe(v, check) + cache.map(c -> " [cache " + c.file() + "]").orElse(" [no cache folder]"));
        boolean disabled = AutoChoice.disabled(System.getenv());
        String backend = disabled ? "cpu will be used by default (" + AutoChoice.ENV + "=" + System.getenv(AutoChoice.ENV) + "); --backend cuda forces the GPU"
                : v.isEmpty() ? "auto runs the self-check on first use, then uses cuda if it passes"
                : v.get().passed() ? "cuda will be used by default"
                : "cpu will be used by default; --backend cuda forces the GPU";
        System.out.println("backend    " + backend);
        return check && !v.get().passed() ? 1 : 0;
    }

    private static String describe(Optional<Verdict> v, boolean ranNow) {
        if (v.isEmpty()) return "not yet checked on this GPU, driver and build (ecar info --check runs it)";
        String when = ranNow ? "just now" : "on " + v.get().date();
        return v.get().passed() ? "passed " + when : "failed " + when + ": " + v.get().reason();
    }

    private static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }
}
