package ecar.sample;

import ecar.image.Pictures;
import ecar.tensor.FloatTensor;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * What a generation produced: the sampled latents [N, C, h, w] (as the VAE expects them, before 1/scale) and
 * the decoded pixels [N, H, W, 3] in [0, 1], in the order of the request's labels.
 */
public record Generated(GenerateRequest request, FloatTensor latents, FloatTensor pixels, double samplingSeconds, double decodeSeconds) {

    /** The pictures as 8-bit RGB images, one per label. */
    public List<BufferedImage> images() {
        return Pictures.toImages(pixels);
    }
}
