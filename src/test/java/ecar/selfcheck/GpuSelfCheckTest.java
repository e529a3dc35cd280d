package ecar.selfcheck;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.LocalDate;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real self-check's comparisons, run without a GPU: the CPU checked against itself must pass, a backend that
 * cannot open or that returns NaN must fail with a reason naming what went wrong. (GpuSelfCheckGpuTest runs it on a GPU.)
 */
class GpuSelfCheckTest {
    static final Clock CLOCK = AutoChoiceTest.CLOCK;

    @Test
    void theCpuAgainstItselfPasses() {
        Verdict v = new GpuSelfCheck(CpuBackend::new, CLOCK).run();
        assertEquals(Verdict.pass(LocalDate.of(2026, 11, 23)), v, v.reason());
    }

    @Test
    void aBackendThatDoesNotOpenFailsWithItsReason() {
        Verdict v = new GpuSelfCheck(() -> {
            throw new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file");
        }, CLOCK).run();
        assertFalse(v.passed());
        assertEquals("UnsatisfiedLinkError: libcuda.so.1: cannot open shared object file", v.reason());
    }

    @Test
    void nonFiniteOutputFailsAndNamesTheOutput() {
        Verdict v = new GpuSelfCheck(GpuSelfCheckTest::nanDownloads, CLOCK).run();
        assertFalse(v.passed());
        assertTrue(v.reason().startsWith("dit-tiny sampled latents: element 0 is NaN, expected a finite number"), v.reason());
    }

    @Test
    void arpgDrawsThatChangeOnceTheLoopIsReplayedFail() {
        Verdict v = new GpuSelfCheck(GpuSelfCheckTest::wrongStreamFromTheSecondArpgLoop, CLOCK).run();
        assertFalse(v.passed());
        assertEquals("arpg-tiny token ids, generation 2: draws differ from generation 1's with the same seed", v.reason());
    }

    /**
     * A CPU backend whose token draws use another Philox stream from its second ARPG generation on, as a replayed graph
     * that read the wrong step's scalars would.
     */
    static Backend wrongStreamFromTheSecondArpgLoop() {
        CpuBackend cpu = new CpuBackend();
        int[] arpgLoops = {0};
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, m, args) -> {
            if (m.getName().equals("loop") && ((ecar.backend.StepKey) args[0]).work().startsWith("ARPG")) arpgLoops[0]++;
            if (m.getName().equals("sampleTokens") && arpgLoops[0] >= 2) args[3] = (Integer) args[3] + 1000;
            try {
                return m.invoke(cpu, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    /**
     * A CPU backend whose downloads come back as NaN, as from a kernel that never wrote its output. A proxy, because
     * CpuBackend is final and Backend has many ops: every call but download goes to the CPU unchanged.
     */
    static Backend nanDownloads() {
        CpuBackend cpu = new CpuBackend();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, m, args) -> {
            Object r;
            try {
                r = m.invoke(cpu, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (m.getName().equals("download")) Arrays.fill(((FloatTensor) r).data(), Float.NaN);
            return r;
        });
    }
}
