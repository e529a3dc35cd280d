package ecar.cuda.backend;

import ecar.backend.Backend;
import ecar.cuda.ops.GemmKernels;
import ecar.family.Preset;
import ecar.flops.CountingBackend;
import ecar.model.Progress;
import ecar.model.RandomWeights;
import ecar.model.Weights;
import ecar.sample.Presets;
import ecar.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How many of a batch-1 image's norms the GEMM prologue (ECAR_NORM_PROLOGUE=on) can take, counted on the shapes alone
 * (no GPU): a norm for a matmul of at most GemmKernels.NORM_PROLOGUE_MAX_M rows of whole chunks of 8 up to 2048 columns,
 * whose very next op is a linear reading it (not one writing the norm's own input). The model code decides this by
 * calling the linear right after the norm; an op put between them would silently cost the prologue, and this count
 * says so. The README quotes these numbers.
 */
class NormPrologueReachTest {
    /** CudaBackend's linears that take a held norm (CudaBackendOwnerCheckTest.KEEP_THE_NORM, less the counter). */
    private static final Set<String> LINEARS = Set.of("linear", "linearOperand", "linearRope", "linearRopeQueries", "linearRopeRows",
            "linearIntoResidual", "gatedLinear");

    @ParameterizedTest(name = "{0}: {2} of {1} norms")
    @CsvSource({"ecar-l, 1150, 460", "arpg-l, 3200, 2675", "ecar-tiny, 60, 40", "arpg-tiny, 80, 5"})
    void countsTheNormsAPrologueTakesAtBatch1(String name, int norms, int taken) {
        Preset preset = Presets.get(name);
        CountingBackend counter = new CountingBackend();
        int[] count = {0, 0};   // norms, norms the next op's GEMM takes
        Object[] held = {null, null};   // the last norm's output and its input x, while it is the previous op
        Backend b = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, m, args) -> {
            Object r;
            try {
                r = m.invoke(counter, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            String op = m.getName();
            if (held[0] != null && LINEARS.contains(op) && Arrays.asList(args).contains(held[0])
                    && !(op.equals("linearIntoResidual") && args[0] == held[1])) {
                count[1]++;
            }
            held[0] = held[1] = null;
            if (op.equals("normForMatmul") || op.equals("normModulate")) {
                count[0]++;
                Tensor x = (Tensor) args[0];
                int d = x.shape().last();
                if (x.shape().rows() <= GemmKernels.NORM_PROLOGUE_MAX_M && d % 8 == 0 && d <= 2048) {
                    held[0] = r;
                    held[1] = x;
                }
            }
            return r;
        });
        preset.family().load(preset, new Weights(new RandomWeights(0), b)).sample(new int[]{0}, preset.sampling(), 0, Progress.NONE);
        assertEquals(norms, count[0], name + ": norms an image at batch 1");
        assertEquals(taken, count[1], name + ": norms whose next op is a linear a norm prologue takes (an op between a norm and its linear, "
                + "or more rows, changes this)");
    }
}
