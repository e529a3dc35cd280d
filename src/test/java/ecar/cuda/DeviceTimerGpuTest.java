package ecar.cuda;

import ecar.cuda.backend.CudaBackend;
import ecar.cuda.backend.DeviceTimer;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ecar profile's device timer (CudaBackend.deviceTimer: the spin_gate kernel between two events, a third after the
 * op): the footprint holds the gate (spin_gate waits at least its nanoseconds of the global timer) and the device time,
 * which is never negative; closing an interval twice is harmless; the launch and gate counts ecar profile subtracts.
 * Orders of events and counts, not speeds.
 */
@GpuTest(arenaMiB = 64)
class DeviceTimerGpuTest {
    static CudaBackend gpu;   // set by @GpuTest

    @Test
    void aGatedIntervalHoldsTheGateAndTheWork() {
        long gate = 300_000;
        DeviceTimer timer = gpu.deviceTimer(gate);
        Tensor x = gpu.upload(new FloatTensor(Shape.of(1 << 20), new float[1 << 20]));
        long launches = Kernel.launches(), gates = timer.gates();
        DeviceTimer.Interval iv = timer.open();
        gpu.add(x, x);
        iv.close();
        // what ecar profile counts as the model's kernels: launches less gates (here the add's one kernel and one gate)
        assertEquals(1, timer.gates() - gates, "one gate an interval");
        assertEquals(2, Kernel.launches() - launches, "the gate and the add");
        iv.close();
        double[] t = iv.read();
        assertTrue(t[0] >= 0 && t[1] >= t[0], "device " + t[0] + " s, footprint " + t[1] + " s");
        assertTrue(t[1] - t[0] >= 0.9 * gate / 1e9, "the footprint holds the " + gate + " ns gate: device " + t[0] + " s, footprint " + t[1] + " s");
        DeviceTimer.Interval empty = timer.open();
        double[] e = empty.read();
        assertTrue(e[0] >= 0 && e[1] - e[0] >= 0.9 * gate / 1e9, "an empty interval: device " + e[0] + " s, footprint " + e[1] + " s");
    }
}
