package ecar.cuda.ops;

import ecar.cuda.DeviceBuffer;
import ecar.cuda.KernelModule;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * kernels/build.sh's zstd_probe.fatbin, elementwise.cu with its images compressed by {@code --compress-mode=size}, loads
 * on this GPU's driver and its add gives the bits of the uncompressed family's: what must hold before every family is
 * packaged so (2.2 MB less in the bundle). Skipped without a GPU.
 */
class CompressedFatbinGpuTest {

    @Test
    void aSizeCompressedFatbinLoadsAndRunsLikeTheFamily() {
        GpuOps.assume("zstd_probe");
        assertNotEquals(0L, KernelModule.get("zstd_probe").handle(), "kernels/zstd_probe.fatbin: null module handle");
        try (GpuOps gpu = new GpuOps()) {
            int rows = 6, width = 1000;
            float[] a = GpuOps.random(1, rows * width, 1f), b = GpuOps.random(2, 2 * width, 1f);
            DeviceBuffer da = gpu.f32(a, "a"), db = gpu.f32(b, "b");
            DeviceBuffer plain = gpu.poisoned((long) rows * width, Precision.F32, "plain"), packed = gpu.poisoned((long) rows * width, Precision.F32, "packed");
            new ElementwiseKernels(gpu.launcher).add(plain, Precision.F32, da, db, rows, width, 3);
            new ElementwiseKernels(gpu.launcher, "zstd_probe").add(packed, Precision.F32, da, db, rows, width, 3);
            float[] want = new float[rows * width];
            for (int i = 0; i < want.length; i++) want[i] = a[i] + b[(i / width) / 3 * width + i % width];
            assertArrayEquals(want, gpu.read(plain, want.length, Precision.F32), "the elementwise family's add");
            assertArrayEquals(want, gpu.read(packed, want.length, Precision.F32), "zstd_probe's add (the compressed fatbin)");
        }
    }
}
