package ecar.cli;

/**
 * One model at one batch size in {@code compare}: the median latency of a generation of the whole batch and the
 * peak memory it held, or the message of the out-of-memory error that stopped it.
 *
 * @param peakMemoryBytes -1 where the backend does not track memory (the CPU)
 * @param outOfMemory     null when measured
 */
record BatchMeasurement(int batch, double latencySeconds, long peakMemoryBytes, String outOfMemory) {

    static BatchMeasurement measured(int batch, double latencySeconds, long peakMemoryBytes) {
        if (!(latencySeconds > 0)) throw new IllegalArgumentException("latency must be positive, got " + latencySeconds);
        return new BatchMeasurement(batch, latencySeconds, peakMemoryBytes, null);
    }

    static BatchMeasurement outOfMemory(int batch, String message) {
        return new BatchMeasurement(batch, Double.NaN, -1, java.util.Objects.requireNonNull(message, "message"));
    }

    boolean isMeasured() {
        return outOfMemory == null;
    }

    boolean tracksMemory() {
        return peakMemoryBytes >= 0;
    }

    double imagesPerSecond() {
        return batch / latencySeconds;
    }

    /** Achieved throughput: the counted FLOPs of every image generated per second. */
    double teraflopsPerSecond(double flopsPerImage) {
        return flopsPerImage * imagesPerSecond() / 1e12;
    }
}
