package ecar.dit;

import ecar.backend.PosteriorVariance;
import ecar.family.Architecture;

import ecar.io.Json;

/**
 * DiT's hyper-parameters with the reference's names (facebookresearch/DiT models.py, and create_diffusion's
 * sigma_small).
 *
 * @param inputSize  latent side (32 for 256² images with the f8 VAE)
 * @param learnSigma the model also predicts the variance interpolation (out channels 2·C); without it the
 *                   sampler uses a fixed variance
 * @param sigmaSmall with a fixed variance, β̃_t (create_diffusion's FIXED_SMALL) instead of β_t (FIXED_LARGE, its
 *                   default); not stored in the weights, so a model directory says it
 */
public record DiTConfig(int inputSize, int patchSize, int inChannels, int hiddenSize, int depth, int numHeads,
                        double mlpRatio, int numClasses, boolean learnSigma, boolean sigmaSmall) implements Architecture {

    public DiTConfig {
        check(inputSize > 0 && patchSize > 0 && inputSize % patchSize == 0, "input_size " + inputSize + " must be a positive multiple of patch_size " + patchSize);
        check(inChannels > 0, "in_channels must be positive, got " + inChannels);
        check(depth > 0, "depth must be positive, got " + depth);
        check(numHeads > 0 && hiddenSize % numHeads == 0, "hidden_size " + hiddenSize + " must be a multiple of num_heads " + numHeads);
        check(numClasses > 0, "num_classes must be positive, got " + numClasses);
        check(mlpRatio > 0 && (int) (hiddenSize * mlpRatio) > 0, "mlp_ratio " + mlpRatio + " gives no MLP width for hidden_size " + hiddenSize);
        check(!(learnSigma && sigmaSmall), "sigma_small chooses a fixed variance, but learn_sigma is true (the model predicts its variance)");
    }

    /** The learned-variance DiT of the paper (sigma_small does not apply). */
    public DiTConfig(int inputSize, int patchSize, int inChannels, int hiddenSize, int depth, int numHeads, double mlpRatio, int numClasses,
                     boolean learnSigma) {
        this(inputSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, numClasses, learnSigma, false);
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("DiT config: " + message);
    }

    public int outChannels() {
        return variance().modelChannels(inChannels);
    }

    /** How a DDPM step gets its variance, as create_diffusion(learn_sigma, sigma_small) chooses it. */
    public PosteriorVariance variance() {
        if (learnSigma) return PosteriorVariance.LEARNED_RANGE;
        return sigmaSmall ? PosteriorVariance.FIXED_SMALL : PosteriorVariance.FIXED_LARGE;
    }

    public int gridSide() {
        return inputSize / patchSize;
    }

    public int tokens() {
        return gridSide() * gridSide();
    }

    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    @Override
    public int latentChannels() {
        return inChannels;
    }

    @Override
    public int latentSide() {
        return inputSize;
    }

    /** The same network on the latent of another image size (the position embedding follows the token grid). */
    @Override
    public DiTConfig atImageSize(int imageSize, int decoderFactor) {
        int latent = imageSize / decoderFactor;
        if (latent * decoderFactor != imageSize || latent % patchSize != 0) {
            throw new IllegalArgumentException("image size " + imageSize + " gives a " + latent + "² latent, not a multiple of patch " + patchSize);
        }
        return new DiTConfig(latent, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, numClasses, learnSigma, sigmaSmall);
    }

    @Override
    public String describe() {
        return String.format(java.util.Locale.ROOT, "DiT depth %d, width %d, %d heads, patch %d, %d tokens%s", depth, hiddenSize, numHeads, patchSize, tokens(),
                learnSigma ? "" : ", " + variance().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " variance");
    }

    /** The class index of the "null" (unconditional) label: the last row of the embedding table. */
    public int nullClass() {
        return numClasses;
    }

    /** The names {@link #with} and {@link #fromJson} read: DiT's constructor arguments and create_diffusion's sigma_small. */
    public static final java.util.List<String> KEYS = java.util.List.of("input_size", "patch_size", "in_channels", "hidden_size", "depth",
            "num_heads", "mlp_ratio", "num_classes", "learn_sigma", "sigma_small");

    /** This architecture with the numbers o gives in place of its own (a model directory's "architecture"). */
    public DiTConfig with(Json.Obj o) {
        o.onlyKeys(KEYS);
        return new DiTConfig(o.integer("input_size", inputSize), o.integer("patch_size", patchSize), o.integer("in_channels", inChannels),
                o.integer("hidden_size", hiddenSize), o.integer("depth", depth), o.integer("num_heads", numHeads), o.num("mlp_ratio", mlpRatio),
                o.integer("num_classes", numClasses), o.bool("learn_sigma", learnSigma), o.bool("sigma_small", sigmaSmall));
    }

    public static DiTConfig fromJson(Json.Obj o) {
        return new DiTConfig(o.integer("input_size"), o.integer("patch_size"), o.integer("in_channels", 4),
                o.integer("hidden_size"), o.integer("depth"), o.integer("num_heads"), o.num("mlp_ratio", 4.0),
                o.integer("num_classes", 1000), o.bool("learn_sigma", true), o.bool("sigma_small", false));
    }

    /** The paper's configurations: S/B/L/XL with patch 2, 4 or 8, for a latent of the given side. */
    public static DiTConfig named(String size, int patch, int inputSize) {
        return switch (size.toUpperCase(java.util.Locale.ROOT)) {
            case "S" -> new DiTConfig(inputSize, patch, 4, 384, 12, 6, 4.0, 1000, true);
            case "B" -> new DiTConfig(inputSize, patch, 4, 768, 12, 12, 4.0, 1000, true);
            case "L" -> new DiTConfig(inputSize, patch, 4, 1024, 24, 16, 4.0, 1000, true);
            case "XL" -> new DiTConfig(inputSize, patch, 4, 1152, 28, 16, 4.0, 1000, true);
            default -> throw new IllegalArgumentException("unknown DiT size '" + size + "' (expected S, B, L or XL)");
        };
    }
}
