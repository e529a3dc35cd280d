package ecar.sample;

import ecar.backend.Backend;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.KvCache;
import ecar.backend.Noise;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;
import ecar.backend.cpu.CpuBackend;
import ecar.dit.DiTSampler;
import ecar.model.Progress;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Backend#loop}'s promise that equal keys launch the same work, checked on the CPU: a GPU backend replays a loop
 * captured in an earlier generation, so every op inside it must be called with the same shapes and the same host values
 * in every generation, except the values each step declares in its {@link StepScalars} (which the replay writes fresh).
 * Two generations with other seeds and labels are recorded op by op inside their loops (tensors by shape, a step's
 * scalar values by name) and must match loop for loop. A value baked into a loop that the key does not cover (a seed,
 * a label, a random order) fails here instead of replaying wrongly on a GPU.
 */
class LoopWorkTest {

    /** A CPU backend that writes down, per loop, each op called inside it with its arguments in replay-relevant form. */
    static final class Recording {
        final Map<StepKey, List<String>> loops = new LinkedHashMap<>();
        private List<String> current;
        private StepScalars step;
        final Backend backend;

        Recording() {
            CpuBackend cpu = new CpuBackend();
            InvocationHandler h = (proxy, m, args) -> {
                String op = m.getName();
                if (op.equals("loop")) {
                    StepKey key = (StepKey) args[0];
                    List<String> ops = new ArrayList<>();
                    Runnable body = (Runnable) args[2];
                    args = new Object[]{key, args[1], (Runnable) () -> {
                        current = ops;
                        try {
                            body.run();
                        } finally {
                            current = null;
                        }
                    }};
                    loops.put(key, ops);
                } else if (op.equals("step")) {
                    StepScalars s = (StepScalars) args[1];
                    Runnable body = (Runnable) args[2];
                    if (current != null) current.add("step " + describe((StepKey) args[0]));
                    args = new Object[]{args[0], s, (Runnable) () -> {
                        step = s;
                        try {
                            body.run();
                        } finally {
                            step = null;
                        }
                    }};
                } else if (current != null && !op.equals("scope") && !op.equals("region")) {
                    StringBuilder call = new StringBuilder(op).append('(');
                    boolean draws = op.equals("sampleTokens");   // (logits, filter, seed, stream, ids): the step's Philox seed and stream
                    for (int i = 0; args != null && i < args.length; i++) {
                        call.append(i == 0 ? "" : ", ").append(draws && (i == 2 || i == 3) ? philox(args[i]) : arg(args[i]));
                    }
                    current.add(call.append(')').toString());
                }
                try {
                    return m.invoke(cpu, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            };
            backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, h);
        }

        /** A step's key without its model object (the same model in both generations). */
        private static String describe(StepKey k) {
            return k.work() + " stage " + k.stage() + " batch " + k.batch() + " " + k.variant();
        }

        /** An argument as a replay sees it: tensors by shape; inside a step, its scalars' values by their names. */
        private String arg(Object a) {
            return switch (a) {
                case null -> "null";
                case Tensor t -> "T" + t.shape();
                case KvCache c -> "cache[" + c.batch() + ", " + c.capacity() + ", " + c.width() + "] holding " + c.length();   // the length is a launch argument
                case Float f -> scalar(f);
                case float[] fs -> {
                    List<String> out = new ArrayList<>();
                    for (float f : fs) out.add(scalar(f));
                    yield out.toString();
                }
                case int[] is -> Arrays.toString(is);
                case DiffusionCoefficients k -> step != null && k.equals(step.diffusion()) ? "coefficients" : k.toString();
                case Noise.Philox p -> "philox(" + philox(p.seed()) + ", " + philox(p.stream()) + ")";
                case Noise.PerImage p -> "perImage(" + philox(p.seed()) + ", " + philox(p.stream()) + ", " + Arrays.toString(p.images()) + ")";
                default -> a.toString();
            };
        }

        /** A Philox seed or stream: named where it is the step's (which a replay writes fresh). */
        private String philox(Object v) {
            if (step != null && v instanceof Long l && l == step.seed()) return "seed";
            if (step != null && v instanceof Integer i && i == step.noiseStream()) return "stream";
            return String.valueOf(v);
        }

        private String scalar(float f) {
            if (step != null) {
                if (StepScalars.same(f, step.time())) return "time";
                if (StepScalars.same(f, step.dt())) return "dt";
                if (StepScalars.same(f, step.cfg())) return "cfg";
            }
            return Float.toString(f);
        }
    }

    /** Two generations of the same pipeline (so the same model objects) with other seeds and labels: their loops must match. */
    private static Recording twoGenerations(String preset, GenerateRequest first, GenerateRequest second, List<Map<StepKey, List<String>>> out) {
        Recording rec = new Recording();
        Pipeline p = Pipeline.random(Presets.get(preset), 0, rec.backend);
        for (GenerateRequest r : List.of(first, second)) {
            rec.loops.clear();
            p.sampleLatents(r, Progress.NONE);
            out.add(new LinkedHashMap<>(rec.loops));
        }
        return rec;
    }

    private static void sameWork(String preset, GenerateRequest first, GenerateRequest second) {
        List<Map<StepKey, List<String>>> runs = new ArrayList<>();
        twoGenerations(preset, first, second, runs);
        Map<StepKey, List<String>> a = runs.get(0), b = runs.get(1);
        assertFalse(a.isEmpty(), preset + ": no loops recorded");
        assertEquals(a.keySet(), b.keySet(), preset + ": both generations run the same loops");
        for (StepKey k : a.keySet()) {
            List<String> x = a.get(k), y = b.get(k);
            assertTrue(x.size() > 0, preset + ": loop " + k + " recorded no ops");
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                assertEquals(x.get(i), y.get(i), preset + ": loop " + k + ", op " + i + " differs between generations with the same key: a replay "
                        + "would run the first generation's");
            }
            assertEquals(x.size(), y.size(), preset + ": loop " + k + " ran " + x.size() + " ops, then " + y.size());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ecar-tiny", "flowar-tiny"})
    void aFlowArStageLaunchesTheSameWorkForOtherSeedsAndLabels(String preset) {
        sameWork(preset, GenerateRequest.of(1, 3).seed(3), GenerateRequest.of(5, 2).seed(11));
    }

    @Test
    void ditsReverseProcessLaunchesTheSameWorkForOtherSeedsAndLabels() {
        for (DiTSampler.Method method : DiTSampler.Method.values()) {
            sameWork("dit-tiny", GenerateRequest.of(1, 3).seed(3).steps(4).cfg(4f).ditMethod(method),
                    GenerateRequest.of(6, 2).seed(9).steps(4).cfg(4f).ditMethod(method));
        }
    }

    @Test
    void anArpgGenerationLaunchesTheSameWorkForOtherSeedsAndLabels() {
        sameWork("arpg-tiny", GenerateRequest.of(1, 3).seed(3), GenerateRequest.of(7, 0).seed(12));
    }

    /** The check can fail: a value the loop bakes in (here the seed, passed where a step scalar is not) shows up. */
    @Test
    void aSeedBakedIntoALoopIsSeen() {
        Recording rec = new Recording();
        Backend b = rec.backend;
        List<List<String>> runs = new ArrayList<>();
        for (long seed : new long[]{1, 2}) {
            rec.loops.clear();
            try (Backend.Scope s = b.scope()) {
                StepKey key = new StepKey(this, "baked", 0, 1);
                StepScalars scalars = StepScalars.flow(0f, 0.5f, 1f);
                Tensor x = b.zeros(ecar.tensor.Shape.of(1, 4)), v = b.zeros(ecar.tensor.Shape.of(1, 4));
                b.loop(key, List.of(scalars), () -> b.step(key, scalars, () -> b.flowEulerStep(x, v, 0.5f * seed, 1f, false)));
            }
            runs.add(rec.loops.values().iterator().next());
        }
        assertEquals("flowEulerStep(T[1, 4], T[1, 4], dt, cfg, false)", runs.get(0).get(1), "the step's own dt is named, not baked");
        assertNotEquals(runs.get(0), runs.get(1), "a dt that is not the step's differs between the runs");
    }
}
