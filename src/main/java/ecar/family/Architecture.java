package ecar.family;

/** A family's architecture (its config record): what the rest of the runtime needs to know of it. */
public interface Architecture {

    /** Channels of the latents (or codebook vectors) the decoder takes. */
    int latentChannels();

    /** Side of the square latent grid the generator produces. */
    int latentSide();

    int numClasses();

    /**
     * The same architecture for another image size, given the decoder's downsampling factor; throws
     * IllegalArgumentException saying which sizes work.
     */
    Architecture atImageSize(int imageSize, int decoderFactor);

    /** The architecture in one line: depth, width, heads, … */
    String describe();
}
