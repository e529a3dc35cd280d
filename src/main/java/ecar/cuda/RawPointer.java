package ecar.cuda;

import jcuda.driver.CUdeviceptr;

/** A CUdeviceptr that tells its numeric address (JCuda keeps it protected), for kernel arguments and offsets. */
final class RawPointer extends CUdeviceptr {
    long address() {
        return getNativePointer() + getByteOffset();
    }
}
