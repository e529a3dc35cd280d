package ecar.sample;

import ecar.dit.DiTSampler;
import ecar.model.Progress;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The samplers' use of {@link Backend#step} on the CPU: one step per denoising step (DiT) or flow-head step (ECAR),
 * each body run exactly once, with the step's scalars and a key that tells apart the work that differs; and the
 * results are bit for bit those of the plain CPU backend.
 */
class StepHookTest {
    record Call(StepKey key, StepScalars scalars, int bodyRuns) {}

    record Loop(StepKey key, List<StepScalars> steps) {}

    /** A CPU backend that records each step (through a proxy, so every op is CpuBackend's own). */
    static final class Recording {
        final List<Call> calls = new ArrayList<>();
        final List<Loop> loops = new ArrayList<>();
        int bodyRuns;
        final Backend backend;

        Recording() {
            CpuBackend cpu = new CpuBackend();
            InvocationHandler h = (proxy, m, args) -> {
                if (m.getName().equals("step")) {
                    Runnable body = (Runnable) args[2];
                    int before = bodyRuns;
                    Runnable counted = () -> {
                        bodyRuns++;
                        body.run();
                    };
                    try {
                        m.invoke(cpu, args[0], args[1], counted);   // CpuBackend's step: it checks the step against the loop's
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    calls.add(new Call((StepKey) args[0], (StepScalars) args[1], bodyRuns - before));
                    return null;
                }
                if (m.getName().equals("loop")) {
                    @SuppressWarnings("unchecked") List<StepScalars> steps = (List<StepScalars>) args[1];
                    loops.add(new Loop((StepKey) args[0], steps));
                }
                try {
                    return m.invoke(cpu, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            };
            backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, h);
        }
    }

    @Test
    void ditDdpmIsOneStepPerDenoisingStepWithItsTimeAndNoiseStream() {
        GenerateRequest r = GenerateRequest.of(1, 7).seed(11).steps(5).cfg(4f).ditMethod(DiTSampler.Method.DDPM);
        Recording rec = new Recording();
        FloatTensor hooked = Pipeline.random(Presets.get("dit-tiny"), 3, rec.backend).sampleLatents(r, Progress.NONE);
        FloatTensor plain = Pipeline.random(Presets.get("dit-tiny"), 3, new CpuBackend()).sampleLatents(r, Progress.NONE);
        assertArrayEquals(plain.data(), hooked.data(), "the hook must not change the CPU's numbers");

        assertEquals(5, rec.calls.size());
        float previous = Float.POSITIVE_INFINITY;
        for (int i = 0; i < 5; i++) {
            Call c = rec.calls.get(i);
            assertEquals(1, c.bodyRuns(), "step " + i + " runs its body once");
            assertEquals(i == 4 ? "DDPM guided last" : "DDPM guided", c.key().work(), "step " + i);
            assertEquals(4, c.key().batch(), "two labels, guided: [cond; null]");
            assertEquals(1 + i, c.scalars().noiseStream());
            assertEquals(11, c.scalars().seed());
            assertEquals(4f, c.scalars().cfg());
            assertNotNull(c.scalars().diffusion());
            assertTrue(c.scalars().time() < previous, "model timesteps decrease");
            previous = c.scalars().time();
        }
        assertEquals(rec.calls.get(0).key(), rec.calls.get(3).key(), "steps 1..4 share one key: one graph");
        assertEquals(1, rec.loops.size(), "the whole reverse process is one loop");
        assertEquals(rec.calls.stream().map(Call::scalars).toList(), rec.loops.get(0).steps(), "the loop declares its steps' scalars");
        assertEquals(java.util.Arrays.asList(0, 1, 0, 1), rec.loops.get(0).key().variant(), "DDPM's noise rows ([cond; null] of images 0, 1) key the loop");
    }

    @Test
    void ecarIsOneStepPerFlowHeadStepKeyedByStage() {
        GenerateRequest r = GenerateRequest.of(2).seed(5).stageSteps(1, 2, 3);
        Recording rec = new Recording();
        FloatTensor hooked = Pipeline.random(Presets.get("ecar-tiny"), 0, rec.backend).sampleLatents(r, Progress.NONE);
        FloatTensor plain = Pipeline.random(Presets.get("ecar-tiny"), 0, new CpuBackend()).sampleLatents(r, Progress.NONE);
        assertArrayEquals(plain.data(), hooked.data(), "the hook must not change the CPU's numbers");

        assertEquals(6, rec.calls.size());
        int[] stages = {0, 1, 1, 2, 2, 2};
        for (int i = 0; i < 6; i++) {
            Call c = rec.calls.get(i);
            assertEquals(1, c.bodyRuns());
            assertEquals(stages[i], c.key().stage(), "step " + i);
            assertNull(c.scalars().diffusion(), "a flow step has no diffusion coefficients");
            assertTrue(c.scalars().dt() != 0f, "step " + i + " moves the state");
            assertEquals(Math.floor(c.scalars().time()), c.scalars().time(), "the time is the head's integer input ⌊t·1000⌋");
            assertTrue(c.key().work().startsWith("flow-head step"));
        }
        assertEquals(3, rec.loops.size(), "one loop per stage: the AR pass and its flow-head steps");
        for (int s = 0; s < 3; s++) {
            final int stage = s;
            assertEquals(s, rec.loops.get(s).key().stage());
            assertEquals(rec.calls.stream().filter(c -> c.key().stage() == stage).map(Call::scalars).toList(), rec.loops.get(s).steps());
        }
    }
}
