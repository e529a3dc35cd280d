package ecar.cli;

import ecar.backend.CpuBackend;
import ecar.cuda.CudaProbe;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code ecar info}: Java, the backends present, and why the GPU backend is absent when it is. */
@Command(name = "info", description = "Show the Java runtime, the backends found and the GPU kernels packaged.")
final class InfoCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.println("java       " + Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
        System.out.println("cpu        " + new CpuBackend().name() + ", " + System.getProperty("os.arch"));
        CudaProbe.Result gpu = CudaProbe.probe();
        if (gpu.available()) {
            System.out.println("cuda       driver " + version(gpu.driverVersion()));
            for (CudaProbe.Device d : gpu.devices()) {
                System.out.printf("gpu %d      %s, compute capability %s, %d SMs, %.1f GiB%n", d.ordinal(), d.name(),
                        d.computeCapability(), d.multiprocessors(), d.totalMemory() / (double) (1L << 30));
            }
        } else {
            System.out.println("gpu        none: " + gpu.reason());
        }
        System.out.println("kernels    " + KernelsInfo.describe());
        if (gpu.available() && KernelsInfo.present()) System.out.println("loaded     " + KernelsInfo.loadReport());
        System.out.println("backend    cpu will be used" + (gpu.available() && KernelsInfo.complete() ? " by default: " + Backends.cudaStatus() : ""));
        return 0;
    }

    private static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }
}
