package ecar.flowar;

import ecar.io.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pyramid Flow's stage windows against the reference numbers in fixtures/pyramid_schedule_ref.json (≤ 1e-9). */
class PyramidWindowsTest {
    private static final double TOL = 1e-9;

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicTest> matchesReferenceNumbers() throws Exception {
        String dir = System.getenv("ECAR_FIXTURES");
        Assumptions.assumeTrue(dir != null, "ECAR_FIXTURES is not set: pyramid_schedule_ref.json not checked");
        Path ref = Path.of(dir, "pyramid_schedule_ref.json");
        Assumptions.assumeTrue(Files.exists(ref), ref + " is missing");
        Map<String, Object> root = Json.parseObject(Files.readString(ref));
        List<DynamicTest> tests = new ArrayList<>();
        for (Object c : (List<Object>) root.get("cases")) {
            Map<String, Object> cs = (Map<String, Object>) c;
            int stages = ((Number) cs.get("stages")).intValue();
            double gamma = ((Number) cs.get("gamma")).doubleValue();
            tests.add(DynamicTest.dynamicTest(stages + " stages, gamma " + gamma, () -> {
                PyramidWindows w = new PyramidWindows(stages, gamma);
                List<Object> per = (List<Object>) cs.get("per_stage");
                assertEquals(stages, per.size());
                int checked = 0;
                for (int s = 0; s < stages; s++) {
                    Map<String, Object> st = (Map<String, Object>) per.get(s);
                    String at = "stage " + s + " ";
                    assertEquals(num(st, "start_sigma"), w.startSigma(s), TOL, at + "start_sigma");
                    assertEquals(num(st, "end_sigma"), w.endSigma(s), TOL, at + "end_sigma");
                    assertEquals(num(st, "ori_start_sigma"), w.oriStartSigma(s), TOL, at + "ori_start_sigma");
                    assertArray(st.get("timestep_ratio"), w.timestepRatio(s), at + "timestep_ratio");
                    for (String key : st.keySet()) {
                        if (key.startsWith("timesteps_")) {
                            int k = Integer.parseInt(key.substring("timesteps_".length()));
                            assertArray(st.get(key), w.timesteps(k, s), at + key);
                            checked++;
                        } else if (key.startsWith("sigmas_")) {
                            int k = Integer.parseInt(key.substring("sigmas_".length()));
                            assertArray(st.get(key), w.sigmas(k, s), at + key);
                            checked++;
                        }
                    }
                    if (st.containsKey("jump_alpha")) {
                        assertEquals(num(st, "jump_alpha"), w.jumpAlpha(s), TOL, at + "jump_alpha");
                        assertEquals(num(st, "jump_beta"), w.jumpBeta(s), TOL, at + "jump_beta");
                    } else {
                        assertEquals(0, s, "every stage after the first has jump coefficients in the reference");
                    }
                }
                assertTrue(checked >= 2 * stages, "the reference lists timesteps and sigmas for every stage");
            }));
        }
        assertTrue(tests.size() >= 8, "the reference covers 2-5 stages and both gammas");
        return tests;
    }

    private static double num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    @SuppressWarnings("unchecked")
    private static void assertArray(Object expected, double[] actual, String what) {
        List<Object> e = (List<Object>) expected;
        assertEquals(e.size(), actual.length, what + " length");
        for (int i = 0; i < actual.length; i++) assertEquals(((Number) e.get(i)).doubleValue(), actual[i], TOL, what + "[" + i + "]");
    }

    @Test
    void rejectsGammaOutsideTheValidRange() {
        var e = assertThrows(IllegalArgumentException.class, () -> new PyramidWindows(3, 0.4));
        assertTrue(e.getMessage().contains("gamma 0.4 outside (0, 1/3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new PyramidWindows(3, 0.0));
        assertThrows(IllegalArgumentException.class, () -> new PyramidWindows(0, 0.25));
    }

    @Test
    void ecarScheduleSpreadsTheFlowOverTheStages() {
        TokenSchedule s = TokenSchedule.ecar(new int[]{1, 2, 4, 8, 16}, new int[]{5, 5, 5, 5, 5}, 1.0 / 3, 2.4f, 0.9f);
        assertEquals(25, s.totalSteps());
        // stage-local sigmas run from 1 to 0: the Euler increments of a stage sum to -1
        for (StagePlan p : s.stages()) {
            double sum = 0;
            for (float d : p.dt()) sum += d;
            assertEquals(-1.0, sum, 1e-6);
        }
        // the head's times fall stage after stage along the global axis, starting at 1
        assertEquals(1.0f, s.stage(0).t()[0]);
        for (int i = 1; i < 5; i++) assertTrue(s.stage(i).t()[0] < s.stage(i - 1).t()[0]);
        assertEquals(1.0f, s.stage(0).cfg());
        assertEquals(2.4f, s.stage(4).cfg(), 1e-6);
        assertTrue(!s.stage(0).jump() && s.stage(1).jump());
    }

    @Test
    void schedulesRejectScalesThatDoNotDouble() {
        var e = assertThrows(IllegalArgumentException.class, () -> TokenSchedule.ecar(new int[]{1, 3}, new int[]{2, 2}, 0.25, 2f, 0.9f));
        assertTrue(e.getMessage().contains("double"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TokenSchedule.ecar(new int[]{1, 2}, new int[]{2, 0}, 0.25, 2f, 0.9f));
        assertThrows(IllegalArgumentException.class, () -> TokenSchedule.flowAr(new int[]{1, 2}, 4, 0.5f, 0.9f));
    }
}
