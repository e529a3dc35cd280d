package ecar.cuda;

import jcuda.driver.CUresult;

/** Turns a CUresult into an exception that says what was being done. */
final class CudaErrors {
    private CudaErrors() {}

    static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) throw new CudaFailure(what + " failed: " + CUresult.stringFor(result), result);
    }

    /** Runs a JCuda call that may throw jcuda.CudaException (exceptions are enabled by the probe) with context. */
    static void call(String what, IntSupplierEx call) {
        int r;
        try {
            r = call.get();
        } catch (jcuda.CudaException e) {
            throw new CudaFailure(what + " failed: " + e.getMessage(), -1);
        }
        check(r, what);
    }

    @FunctionalInterface
    interface IntSupplierEx {
        int get();
    }

    /** A failed CUDA driver call; the message names the call, its context and the CUresult. */
    public static final class CudaFailure extends RuntimeException {
        private final int result;

        CudaFailure(String message, int result) {
            super(message);
            this.result = result;
        }

        /** The CUresult code, or -1 when JCuda reported it only by name. */
        public int result() {
            return result;
        }
    }
}
