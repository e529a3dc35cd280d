package ecar.cuda;

/** Something that names a range of device memory: what a kernel's pointer parameter accepts. */
public interface DeviceAddress {
    /** The device address of the first byte. */
    long address();

    /** The size of the range in bytes. */
    long bytes();

    /** What the memory holds, for error messages and leak reports. */
    String label();
}
