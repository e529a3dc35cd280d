package ecar.cuda;

/**
 * Grid, block and dynamic shared memory of one launch, checked against the limits every GPU we target has
 * (1024 threads a block, grid y and z up to 65535, x up to 2³¹−1). Pure logic.
 */
public record LaunchShape(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {

    public LaunchShape {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || gridY > 65535 || gridZ > 65535) {
            throw new IllegalArgumentException("grid (" + gridX + ", " + gridY + ", " + gridZ + ") is outside 1..2^31-1 × 1..65535 × 1..65535");
        }
        long threads = (long) blockX * blockY * blockZ;
        if (blockX < 1 || blockY < 1 || blockZ < 1 || threads > 1024 || blockZ > 64) {
            throw new IllegalArgumentException("block (" + blockX + ", " + blockY + ", " + blockZ + ") must have 1..1024 threads and z ≤ 64");
        }
        if (sharedBytes < 0 || sharedBytes > 227 * 1024) {
            throw new IllegalArgumentException("dynamic shared memory of " + sharedBytes + " bytes is outside 0..227 KiB");
        }
    }

    public static LaunchShape of(int gridX, int gridY, int gridZ, int block, int sharedBytes) {
        return new LaunchShape(gridX, gridY, gridZ, block, 1, 1, sharedBytes);
    }

    /** One thread per item in blocks of {@code block}: grid ceil(items / block). */
    public static LaunchShape linear(long items, int block) {
        if (items < 1) throw new IllegalArgumentException("a launch over " + items + " items; expected at least 1");
        long grid = (items + block - 1) / block;
        if (grid > Integer.MAX_VALUE) throw new IllegalArgumentException(items + " items need " + grid + " blocks of " + block + ", more than 2^31-1");
        return new LaunchShape((int) grid, 1, 1, block, 1, 1, 0);
    }

    public long threads() {
        return (long) gridX * gridY * gridZ * blockX * blockY * blockZ;
    }

    @Override
    public String toString() {
        return "grid (" + gridX + ", " + gridY + ", " + gridZ + ") block (" + blockX + ", " + blockY + ", " + blockZ + ")"
                + (sharedBytes > 0 ? " with " + sharedBytes + " bytes of dynamic shared memory" : "");
    }
}
