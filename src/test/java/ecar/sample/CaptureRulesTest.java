package ecar.sample;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.dit.DiTSampler;
import ecar.family.Preset;
import ecar.model.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a GPU backend refuses inside a captured loop or step, checked here on the CPU for every sampler that declares
 * loops: no op that moves host data, draws noise from host seeds or reads results runs between a loop's start and end,
 * and timestep embeddings (which upload the times outside a step) run only inside steps. A model change that would break
 * the CUDA capture fails here, without a GPU.
 */
class CaptureRulesTest {
    /**
     * Ops that move host data or bake host values a replay would not repeat (CudaBackend calls noHostTraffic in them);
     * embedding only with host ids (an int[]), not with ids in a tensor.
     */
    private static final Set<String> HOST_TRAFFIC = Set.of("upload", "weight", "download", "randn", "stageJump", "embedding", "firstNonFinite");
    /** Ops that read the step's scalars inside a capture, so inside a loop they must run inside a step. */
    private static final Set<String> STEP_ONLY = Set.of("timestepEmbedding", "guideLogits", "sampleTokens");

    /** A CPU backend that notes each op run inside a loop (and whether inside a step) that a capture would refuse. */
    static final class Watching {
        final List<String> violations = new ArrayList<>();
        int loops, steps, loopDepth, stepDepth;
        final Backend backend;

        Watching() {
            CpuBackend cpu = new CpuBackend();
            InvocationHandler h = (proxy, m, args) -> {
                String op = m.getName();
                boolean hostIds = !op.equals("embedding") || args[1] instanceof int[];
                if (loopDepth > 0 && HOST_TRAFFIC.contains(op) && hostIds) violations.add(op + " inside a loop");
                if (loopDepth > 0 && stepDepth == 0 && STEP_ONLY.contains(op)) violations.add(op + " inside a loop, outside a step");
                if (op.equals("loop") || op.equals("step")) {
                    boolean loop = op.equals("loop");
                    Runnable body = (Runnable) args[2];
                    args = new Object[]{args[0], args[1], (Runnable) () -> {
                        if (loop) loopDepth++; else stepDepth++;
                        try {
                            body.run();
                        } finally {
                            if (loop) loopDepth--; else stepDepth--;
                        }
                    }};
                    if (loop) loops++; else steps++;
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

    @ParameterizedTest
    @ValueSource(strings = {"ecar-tiny", "flowar-tiny"})
    void aFlowArStageMovesNoHostData(String preset) {
        Watching w = new Watching();
        Pipeline.random(Presets.get(preset), 0, w.backend).sampleLatents(GenerateRequest.of(2, 5).seed(3), Progress.NONE);
        assertEquals(List.of(), w.violations);
        assertEquals(3, w.loops, "one loop per stage");
        assertTrue(w.steps >= 3, "the stages' steps ran inside them");
    }

    @Test
    void ditsReverseProcessMovesNoHostData() {
        for (DiTSampler.Method method : DiTSampler.Method.values()) {
            Watching w = new Watching();
            Pipeline.random(Presets.get("dit-tiny"), 0, w.backend).sampleLatents(GenerateRequest.of(2, 5).seed(3).steps(4).cfg(4f).ditMethod(method),
                    Progress.NONE);
            assertEquals(List.of(), w.violations, method.toString());
            assertEquals(1, w.loops, method + ": the reverse process is one loop");
            assertEquals(4, w.steps, method.toString());
        }
    }

    @Test
    void anArpgGenerationIsOneLoopThatMovesNoHostData() {
        Watching w = new Watching();
        Preset tiny = Presets.get("arpg-tiny");
        Pipeline.random(tiny, 0, w.backend).sampleLatents(GenerateRequest.of(2, 5).seed(3), Progress.NONE);
        assertEquals(List.of(), w.violations);
        assertEquals(1, w.loops, "the whole generation is one loop");
        assertEquals(((ecar.arpg.ArpgSampling) tiny.sampling()).steps(), w.steps, "one step per decoding step, all inside the loop");
    }

    @Test
    void theWatchSeesAnUploadInsideALoop() {
        Watching w = new Watching();
        ecar.backend.StepKey key = new ecar.backend.StepKey(this, "bad loop", 0, 1);
        ecar.backend.StepScalars s = ecar.backend.StepScalars.flow(0f, 1f, 1f);
        try (Backend.Scope scope = w.backend.scope()) {
            w.backend.loop(key, List.of(s), () -> {
                w.backend.upload(new ecar.tensor.FloatTensor(ecar.tensor.Shape.of(1), new float[1]));
                w.backend.step(key, s, () -> {});
            });
        }
        assertEquals(List.of("upload inside a loop"), w.violations, "the rule this test checks can fail");
    }
}
