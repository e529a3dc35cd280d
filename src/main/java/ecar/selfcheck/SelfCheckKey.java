package ecar.selfcheck;

import ecar.cuda.KernelModule;

import ecar.cuda.CudaProbe;
import ecar.cuda.backend.CudaBackend;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What a cached verdict is valid for: the device (name and compute capability), the driver, and the build (its
 * version, a checksum of the packaged kernels and the GEMM path in force, which ECAR_GEMM / -Decar.gemm can change
 * between runs). A new card, driver, build or GEMM path is checked again, because any of them can change which code
 * runs on the GPU.
 */
public record SelfCheckKey(String device, String computeCapability, int driverVersion, String build) {
    public SelfCheckKey {
        device = clean(device);
        computeCapability = clean(computeCapability);
        build = clean(build);
    }

    /** The key for the device the CUDA backend opens (ordinal 0) and this build. */
    public static SelfCheckKey current(CudaProbe.Result gpu) {
        if (!gpu.available() || gpu.devices().isEmpty()) {
            throw new IllegalStateException("no GPU to key a self-check on: " + gpu.reason());
        }
        CudaProbe.Device d = gpu.devices().get(0);
        return new SelfCheckKey(d.name(), d.computeCapability(), gpu.driverVersion(), buildFingerprint() + " gemm " + CudaBackend.gemmPath(d));
    }

    /** One field of the cache file: tabs separate fields and newlines lines, so neither may occur inside. */
    public String text() {
        return device + " | sm " + computeCapability + " | driver " + driverVersion + " | build " + build;
    }

    /** The implementation version (when packaged) and the first 16 hex digits of SHA-256 over the kernel fatbins. */
    static String buildFingerprint() {
        String version = SelfCheckKey.class.getPackage().getImplementationVersion();
        return fingerprint(version == null ? "dev" : version, KernelModule.FAMILIES, SelfCheckKey::packagedFatbin);
    }

    /**
     * version + "-" + the first 16 hex digits of SHA-256 over each family's name followed by its fatbin's bytes (absent
     * fatbins add only the name); "unreadable" when a fatbin cannot be read.
     */
    static String fingerprint(String version, java.util.List<String> families, FatbinSource fatbins) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String family : families) {
                sha.update(family.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                byte[] image = fatbins.read(family);
                if (image != null) sha.update(image);
            }
            return version + "-" + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (IOException | NoSuchAlgorithmException e) {
            return version + "-unreadable";   // a key that is still stable for this build; the check itself will say what is wrong
        }
    }

    /** A family's fatbin bytes, or null when the build has none. */
    @FunctionalInterface
    interface FatbinSource {
        byte[] read(String family) throws IOException;
    }

    private static byte[] packagedFatbin(String family) throws IOException {
        try (InputStream in = SelfCheckKey.class.getResourceAsStream("/kernels/" + family + ".fatbin")) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private static String clean(String s) {
        return s == null ? "" : s.replaceAll("[\\t\\r\\n|]", " ").strip();
    }
}
