package ecar.cuda.backend;

import ecar.backend.Norm;
import ecar.cuda.CudaTensor;
import ecar.cuda.FakeDeviceMemory;
import ecar.cuda.ops.NormInput;
import ecar.tensor.DType;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bookkeeping of a norm left for a GEMM prologue (no GPU): a held norm runs, once, before whatever op does not
 * take it; a taken one never runs, and its output cannot be used afterwards.
 */
class DeferredNormTest {
    private final List<String> launched = new ArrayList<>();
    private final DeferredNorm deferred = new DeferredNorm((out, in) -> launched.add(out.toString() + " <- " + in.x().label()));

    private static CudaTensor tensor(String label, DType t) {
        return FakeDeviceMemory.tensor(new Shape(2, 1024), t, label);
    }

    private static NormInput normOf(CudaTensor x) {
        return NormInput.weighted(x.buffer(), null, 2, 1024, Norm.RMS, 1e-6f);
    }

    @Test
    void aHeldNormRunsOnceWhenFlushed() {
        CudaTensor x = tensor("x", DType.F32), h = tensor("h", DType.BF16);
        deferred.hold(h, normOf(x), x);
        assertTrue(deferred.holding());
        assertEquals(List.of(), launched, "nothing runs while it is held");
        deferred.flush();
        deferred.flush();
        assertEquals(List.of(h + " <- x"), launched);
        assertFalse(deferred.holding());
        h.buffer();   // written: usable
    }

    @Test
    void holdingASecondNormRunsTheFirst() {
        CudaTensor x = tensor("x", DType.F32), h1 = tensor("h1", DType.BF16), h2 = tensor("h2", DType.BF16);
        deferred.hold(h1, normOf(x), x);
        deferred.hold(h2, normOf(x), x);
        assertEquals(List.of(h1 + " <- x"), launched);
    }

    @Test
    void theGemmReadingItTakesItAndItsOutputIsNeverWritten() {
        CudaTensor x = tensor("x", DType.F32), h = tensor("h", DType.BF16);
        NormInput in = normOf(x);
        deferred.hold(h, in, x);
        assertSame(in, deferred.take(h, n -> true, "linearRope"));
        assertEquals(List.of(), launched, "the GEMM computes it: the norm never runs");
        assertFalse(deferred.holding());
        String msg = assertThrows(IllegalStateException.class, h::buffer).getMessage();
        assertTrue(msg.contains("linearRope") && msg.contains("never written") && msg.contains("ECAR_NORM_PROLOGUE=off"), msg);
        assertThrows(IllegalStateException.class, () -> h.view(new Shape(2048)), "nor a view of it");
        deferred.flush();
        assertEquals(List.of(), launched);
    }

    @Test
    void anotherTensorOrAShapeTheGemmCannotFuseRunsTheNormFirst() {
        CudaTensor x = tensor("x", DType.F32), h = tensor("h", DType.BF16), other = tensor("other", DType.BF16);
        deferred.hold(h, normOf(x), x);
        assertNull(deferred.take(other, n -> true, "linear"));
        assertEquals(List.of(h + " <- x"), launched, "an op reading something else runs the norm before its own kernels");
        deferred.hold(h, normOf(x), x);
        assertNull(deferred.take(h, n -> false, "linear"));
        assertEquals(2, launched.size(), "a GEMM that cannot take it reads it written");
        h.buffer();
        assertNull(deferred.take(h, n -> true, "linear"), "nothing held: nothing to take");
        assertEquals(2, launched.size());
    }
}
