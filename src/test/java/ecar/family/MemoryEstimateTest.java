package ecar.family;

import ecar.backend.Backend;
import ecar.backend.OutOfMemory;
import ecar.backend.cpu.CpuBackend;
import ecar.flops.CountingBackend;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.sample.Presets;
import ecar.model.Progress;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device-memory estimate of a generation (the CUDA backend's layout, counted on shapes) and what it is used for. */
class MemoryEstimateTest {
    private static final long GIB = 1L << 30;

    @Test
    void ecarLAtBatch64FitsInTwelveGibibytesAndBatch256InAnEightyGigabyteCard() {
        Preset p = Presets.get("ecar-l");
        CountingBackend.MemoryEstimate b64 = p.memory(64, p.sampling()), b256 = p.memory(256, p.sampling());
        assertTrue(b64.weightBytes() + b64.peakActivationBytes() <= 12 * GIB, "ecar-l batch 64: " + b64);
        assertTrue(b256.weightBytes() + b256.peakActivationBytes() <= 60 * GIB, "ecar-l batch 256: " + b256);
        Preset dit = Presets.get("dit-xl-2");
        CountingBackend.MemoryEstimate d64 = dit.memory(64, dit.sampling());
        assertTrue(d64.weightBytes() + d64.peakActivationBytes() <= 12 * GIB, "dit-xl-2 batch 64: " + d64);
    }

    @Test
    void activationsGrowByTheSameBytesPerImageAndTheLargestBatchIsTheLastThatFits() {
        Preset p = Presets.get("ecar-s");
        Sampling s = p.sampling();
        long one = p.memory(1, s).peakActivationBytes(), two = p.memory(2, s).peakActivationBytes(), four = p.memory(4, s).peakActivationBytes();
        assertEquals(2.0 * (two - one), four - two, 0.02 * (four - two));
        long arena = p.memory(10, s).peakActivationBytes() + 1;
        int largest = p.largestBatch(arena, s);
        assertTrue(p.memory(largest, s).peakActivationBytes() <= arena);
        assertTrue(p.memory(largest + 1, s).peakActivationBytes() > arena, "batch " + (largest + 1) + " should not fit");
        assertEquals(0, p.largestBatch(one - 1, s));
    }

    @Test
    void anOutOfMemoryGenerationSaysWhichBatchWouldFit() {
        CpuBackend cpu = new CpuBackend();
        Preset p = Presets.get("dit-tiny");
        long budget = p.memory(3, p.sampling()).peakActivationBytes();
        // a CPU backend whose memory budget is what three images need: it throws as the CUDA arena does beyond that
        Backend tight = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, m, args) -> {
            if (m.getName().equals("randn") && ((ecar.tensor.Shape) args[0]).dim(0) > 3) {
                throw new OutOfMemory("arena 'test' is out of memory", budget, null);
            }
            try {
                return m.invoke(cpu, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
        Pipeline pipe = Pipeline.random(p, 0, tight);
        OutOfMemory e = assertThrows(OutOfMemory.class, () -> pipe.sampleLatents(GenerateRequest.of(1, 2, 3, 4, 5, 6), Progress.NONE));
        assertTrue(e.getMessage().startsWith("dit-tiny at batch 6 needs about "), e.getMessage());
        assertTrue(e.getMessage().contains("; batch 3 fits in it. arena 'test' is out of memory"), e.getMessage());
    }
}
