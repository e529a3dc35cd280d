package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.CudaProbe;
import ecar.selfcheck.AutoChoice;
import ecar.selfcheck.SelfCheck;
import ecar.selfcheck.Verdict;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --backend auto as the commands get it: the GPU offered to the self-check only with a device and every kernel. */
class BackendsTest {
    static final CudaProbe.Result NO_GPU = new CudaProbe.Result(false, List.of(), 0, "no driver");
    static final CudaProbe.Result H100 = new CudaProbe.Result(true, List.of(new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132)), 12060, "");
    static final SelfCheck NEVER = () -> {
        throw new AssertionError("the self-check ran");
    };

    private static AutoChoice choice(SelfCheck check) {
        return new AutoChoice(Map.of(), Optional.empty(), check, Clock.systemUTC());
    }

    @Test
    void withoutAGpuAutoIsTheCpuAndNoCheckRuns() {
        assertInstanceOf(CpuBackend.class, Backends.auto(NO_GPU, true, choice(NEVER)));
        assertFalse(Backends.offer(NO_GPU, true).ready());
    }

    @Test
    void aGpuWithoutEveryKernelIsNotOffered() {
        assertInstanceOf(CpuBackend.class, Backends.auto(H100, false, choice(NEVER)));
    }

    @Test
    void onThisMachineAutoIsTheCpu() {
        Assumptions.assumeFalse(CudaProbe.available(), "a GPU machine: the real decision is GpuSelfCheckGpuTest's");
        try (Backend b = Backends.select("auto")) {
            assertInstanceOf(CpuBackend.class, b);
        }
    }

    @Test
    void aPassedCheckOfferedAGpuThatThenDoesNotOpenStillRuns() {
        Assumptions.assumeFalse(CudaProbe.available(), "needs a machine where the CUDA backend cannot open: that is the case under test");
        boolean[] ran = {false};
        Backend b = Backends.auto(H100, true, choice(() -> {
            ran[0] = true;
            return Verdict.pass(LocalDate.now());
        }));
        assertTrue(ran[0], "a GPU with every kernel is offered to the check");
        assertInstanceOf(CpuBackend.class, b, "falls back to the CPU when the backend does not open");
    }

    /** A bad ECAR_CUDA_DEVICE keeps auto off the GPU (and the self-check, whose failure would be cached) only where a GPU exists. */
    @Test
    void theDeviceVariableIsCheckedAgainstTheGpusFound() {
        assertTrue(Backends.deviceProblem(H100, "abc").orElseThrow().startsWith("ECAR_CUDA_DEVICE='abc' is not a device number (0..0)"));
        assertTrue(Backends.deviceProblem(H100, "1").orElseThrow().endsWith("but the driver reports 1 device(s)"));
        assertTrue(Backends.deviceProblem(H100, "0").isEmpty());
        assertTrue(Backends.deviceProblem(NO_GPU, "abc").isEmpty(), "no GPU: the CPU, as always, without a word");
    }
}
