package ecar.family;

/** The image indices of a batch's rows, as generators draw per-image noise by them. */
public final class ImageRows {
    private ImageRows() {}

    /** Images 0..n-1: what a plain generation of n labels is. */
    public static int[] first(int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) rows[i] = i;
        return rows;
    }

    /** The rows of a guided batch [cond; null]: each image twice, the null half drawing its conditional row's noise. */
    public static int[] twice(int[] images) {
        int[] rows = java.util.Arrays.copyOf(images, 2 * images.length);
        System.arraycopy(images, 0, rows, images.length, images.length);
        return rows;
    }

    /** One non-negative image index per label. */
    public static void check(int[] labels, int[] images) {
        if (images.length != labels.length) {
            throw new IllegalArgumentException(labels.length + " labels but " + images.length + " image indices; expected one index per label");
        }
        for (int k : images) if (k < 0) throw new IllegalArgumentException("image index " + k + " is negative; expected 0 or more");
    }
}
