package ecar.image;

import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/** Decoded pixels [N, H, W, 3] in [0, 1] as Java images, and a grid of several images in one picture. */
public final class Pictures {
    private Pictures() {}

    /** One 8-bit RGB image per sample; values are rounded to the nearest of 256 levels, as torchvision saves them. */
    public static List<BufferedImage> toImages(FloatTensor pixels) {
        Shape s = pixels.shape();
        if (s.rank() != 4 || s.dim(3) != 3) throw new IllegalArgumentException("pixels " + s + " must be [N, H, W, 3]");
        int n = s.dim(0), h = s.dim(1), w = s.dim(2);
        float[] p = pixels.data();
        List<BufferedImage> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            int[] rgb = new int[w * h];
            for (int k = 0, o = i * h * w * 3; k < rgb.length; k++, o += 3) {
                rgb[k] = level(p[o]) << 16 | level(p[o + 1]) << 8 | level(p[o + 2]);
            }
            img.setRGB(0, 0, w, h, rgb, 0, w);
            out.add(img);
        }
        return out;
    }

    private static int level(float v) {
        return Math.round(Math.min(1f, Math.max(0f, v)) * 255f);
    }

    /** The images side by side in rows of at most columns, left to right then top to bottom. */
    public static BufferedImage grid(List<BufferedImage> images, int columns) {
        if (images.isEmpty()) throw new IllegalArgumentException("no images to put in a grid");
        if (columns <= 0) throw new IllegalArgumentException("columns must be positive, got " + columns);
        int w = images.get(0).getWidth(), h = images.get(0).getHeight();
        int cols = Math.min(columns, images.size()), rows = (images.size() + cols - 1) / cols;
        BufferedImage g = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = g.createGraphics();
        try {
            for (int i = 0; i < images.size(); i++) gr.drawImage(images.get(i), (i % cols) * w, (i / cols) * h, null);
        } finally {
            gr.dispose();
        }
        return g;
    }
}
