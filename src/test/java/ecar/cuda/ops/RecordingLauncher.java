package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;
import ecar.cuda.KernelSignature;
import ecar.cuda.LaunchShape;

import java.util.ArrayList;
import java.util.List;

/**
 * A launcher that launches nothing: it checks each launch's arguments against the declared signature exactly as
 * the runtime's Kernel.launch does (count, types, non-null pointers) and records it.
 */
final class RecordingLauncher implements Launcher {
    record Call(String family, KernelSignature signature, LaunchShape shape, Object[] args) {
        String kernel() {
            return signature.name();
        }
    }

    final List<Call> calls = new ArrayList<>();

    @Override
    public void launch(String family, String signature, LaunchShape shape, Object... args) {
        KernelSignature sig = KernelSignature.parse(signature);
        sig.encode(args);
        calls.add(new Call(family, sig, shape, args.clone()));
    }

    Call last() {
        return calls.getLast();
    }

    private static final java.util.concurrent.atomic.AtomicLong NEXT = new java.util.concurrent.atomic.AtomicLong(0x7f0000000000L);

    /** A stand-in for device memory: an address and a size, no GPU. Each {@link #of} is a fresh, 256-byte aligned range. */
    record Fake(long address, long bytes, String label) implements DeviceAddress {
        static Fake of(long bytes, String label) {
            return new Fake(NEXT.getAndAdd((bytes + 255) / 256 * 256 + 256), bytes, label);
        }

        Fake shifted(long by) {
            return new Fake(address + by, bytes, label);
        }
    }

    static Fake f32(long count, String label) {
        return Fake.of(4 * count, label);
    }

    static Fake bf16(long count, String label) {
        return Fake.of(2 * count, label);
    }
}
