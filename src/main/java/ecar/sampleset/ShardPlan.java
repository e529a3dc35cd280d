package ecar.sampleset;

import java.util.Arrays;

/** One shard of a set: its number, its first image and the labels of its images (consecutive image indices). */
public record ShardPlan(int index, int firstImage, int[] labels) {
    public ShardPlan {
        labels = labels.clone();
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    public int count() {
        return labels.length;
    }

    /** The image indices first, first + 1, … */
    public int[] images() {
        int[] images = new int[labels.length];
        for (int i = 0; i < images.length; i++) images[i] = firstImage + i;
        return images;
    }

    /** The shard's folder name: shard-00012. */
    public String name() {
        return String.format(java.util.Locale.ROOT, "shard-%05d", index);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardPlan p && p.index == index && p.firstImage == firstImage && Arrays.equals(p.labels, labels);
    }

    @Override
    public int hashCode() {
        return index * 31 + firstImage;
    }

    @Override
    public String toString() {
        return name() + " (images " + firstImage + ".." + (firstImage + labels.length - 1) + ")";
    }
}
