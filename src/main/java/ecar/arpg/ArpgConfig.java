package ecar.arpg;

import ecar.family.Architecture;
import ecar.io.Json;

import java.util.Locale;

/**
 * ARPG's architecture (hp-l33/ARPG {@code ModelArgs}; MODELS.md §5), with the reference's names in the fixtures' JSON.
 *
 * @param dim        width of every block
 * @param layers     blocks in all: the first half self-decoder blocks, the second half cross-decoder blocks
 * @param heads      attention heads
 * @param vocab      VQ codebook size (image token ids [0, vocab))
 * @param numClasses class labels
 * @param grid       side of the token grid (block_size = grid²)
 * @param ropeBase   the 2D RoPE's base
 * @param normEps    RMSNorm's epsilon
 * @param multipleOf the SwiGLU hidden size is rounded up to a multiple of this
 */
public record ArpgConfig(int dim, int layers, int heads, int vocab, int numClasses, int grid, double ropeBase, float normEps, int multipleOf)
        implements Architecture {

    /** The VQ-16 tokenizer's downsampling: a 16×16 grid for 256² images. */
    public static final int VQ_FACTOR = 16;

    public ArpgConfig {
        check(dim > 0 && heads > 0 && dim % heads == 0, "dim " + dim + " must be a positive multiple of heads " + heads);
        check((dim / heads) % 4 == 0, "head size " + dim / heads + " must be a multiple of 4 for the 2D RoPE");
        check(layers >= 2 && layers % 2 == 0, "n_layer " + layers + " must be even and at least 2 (half self, half cross blocks)");
        check(vocab > 0 && numClasses > 0 && grid > 0 && multipleOf > 0, "vocab " + vocab + ", classes " + numClasses + ", grid " + grid
                + " and multiple_of " + multipleOf + " must be positive");
        check(ropeBase > 0 && normEps > 0, "rope base " + ropeBase + " and norm eps " + normEps + " must be positive");
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("ARPG config: " + message);
    }

    /** ARPG-L, -XL, -XXL (arpg_300m, arpg_700m, arpg_1b): 256² images, VQ-16's 16384 codes, 1000 classes. */
    public static ArpgConfig named(String size) {
        return switch (size.toUpperCase(Locale.ROOT)) {
            case "L" -> new ArpgConfig(1024, 24, 16, 16384, 1000, 16, 10000, 1e-5f, 256);
            case "XL" -> new ArpgConfig(1280, 36, 20, 16384, 1000, 16, 10000, 1e-5f, 256);
            case "XXL" -> new ArpgConfig(1536, 48, 24, 16384, 1000, 16, 10000, 1e-5f, 256);
            default -> throw new IllegalArgumentException("unknown ARPG size '" + size + "' (expected L, XL or XXL)");
        };
    }

    /** From a fixture's config (ModelArgs names; block_size must be a square). */
    public static ArpgConfig fromJson(Json.Obj o) {
        int block = o.integer("block_size", 256), grid = (int) Math.round(Math.sqrt(block));
        check(grid * grid == block, "block_size " + block + " is not a square token grid");
        return new ArpgConfig(o.integer("dim"), o.integer("n_layer"), o.integer("n_head"), o.integer("vocab_size", 16384),
                o.integer("num_classes", 1000), grid, o.num("rope_base", 10000), (float) o.num("norm_eps", 1e-5), o.integer("multiple_of", 256));
    }

    public int headSize() {
        return dim / heads;
    }

    /** Self-decoder blocks, and as many cross-decoder blocks. */
    public int halfDepth() {
        return layers / 2;
    }

    /** Image tokens per sample, grid². */
    public int tokens() {
        return grid * grid;
    }

    /** LlamaGen's FeedForward hidden size: find_multiple(int(2·4·dim/3), multiple_of). */
    public int ffnHidden() {
        int h = (int) (2 * (4.0 * dim) / 3);
        return h % multipleOf == 0 ? h : h + multipleOf - h % multipleOf;
    }

    /** Embedding rows: image tokens, the mask token, the classes, the null class and one more the reference keeps unused. */
    public int embeddingRows() {
        return vocab + 1 + numClasses + 1 + 1;
    }

    public int maskToken() {
        return vocab;
    }

    public int classToken(int label) {
        return vocab + 1 + label;
    }

    /** The class-dropout token guidance feeds the unconditional half. */
    public int nullClassToken() {
        return vocab + numClasses + 1;
    }

    @Override
    public int latentChannels() {
        return 1;   // the decoder takes an index map [N, 1, h, w]
    }

    @Override
    public int latentSide() {
        return grid;
    }

    /** The same weights on another grid (nothing in them depends on it; the RoPE table is recomputed). */
    @Override
    public ArpgConfig atImageSize(int imageSize, int decoderFactor) {
        if (imageSize % decoderFactor != 0) {
            throw new IllegalArgumentException("image size " + imageSize + " is not a multiple of the decoder's factor " + decoderFactor);
        }
        return new ArpgConfig(dim, layers, heads, vocab, numClasses, imageSize / decoderFactor, ropeBase, normEps, multipleOf);
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "%d+%d blocks × %d, %d heads, vocab %d, %d² tokens", halfDepth(), halfDepth(), dim, heads, vocab, grid);
    }
}
