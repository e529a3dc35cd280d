package ecar.sample;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pipeline.warmUp runs a short generation, then, on a backend that replays loops as graphs after some runs, the request
 * itself that many times (a backend here that says it needs two, counting the loops' steps on the CPU).
 */
class WarmUpTest {

    /** A CPU backend that claims {@code runs} runs before a loop replays, and records each loop's step count. */
    private static Backend claiming(int runs, List<Integer> loops) {
        CpuBackend cpu = new CpuBackend();
        InvocationHandler h = (proxy, m, args) -> {
            if (m.getName().equals("loopRunsBeforeReplay")) return runs;
            if (m.getName().equals("loop")) loops.add(((List<?>) args[1]).size());
            try {
                return m.invoke(cpu, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, h);
    }

    @Test
    void aGraphReplayingBackendWarmsUpOnTheRequestItself() {
        GenerateRequest r = GenerateRequest.of(3).seed(1).stageSteps(2, 3, 4);
        List<Integer> loops = new ArrayList<>();
        Pipeline.random(Presets.get("ecar-tiny"), 0, claiming(2, loops)).warmUp(r);
        // the short warm-up's stages (one step each), then the request's stages twice
        assertEquals(List.of(1, 1, 1, 2, 3, 4, 2, 3, 4), loops);
    }

    @Test
    void aBackendWithoutGraphsWarmsUpOnTheShortGenerationOnly() {
        List<Integer> loops = new ArrayList<>();
        Pipeline.random(Presets.get("ecar-tiny"), 0, claiming(0, loops)).warmUp(GenerateRequest.of(3).seed(1).stageSteps(2, 3, 4));
        assertEquals(List.of(1, 1, 1), loops);
    }
}
