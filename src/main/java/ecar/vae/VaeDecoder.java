package ecar.vae;

import ecar.backend.Backend;
import ecar.model.Linear;
import ecar.model.WeightSource;
import ecar.model.Weights;
import ecar.model.Progress;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The decoder shared by LDM's KL autoencoder (MODELS.md §4) and LlamaGen's VQ tokenizer (§5): post_quant_conv
 * (1×1) → conv_in → mid (ResnetBlock, AttnBlock, ResnetBlock) → up levels from the coarsest, each
 * num_res_blocks + 1 ResnetBlocks and, except the finest, a nearest ×2 upsample and 3×3 conv → GroupNorm → SiLU
 * → conv_out. A KL decoder takes latents [N, embed_dim, h, w]; a VQ decoder takes token ids [N, 1, h, w] and
 * looks them up in its l2-normalised codebook first. Activations are channels-last [N, H, W, C] throughout;
 * images go out as PyTorch lays them out ([N, 3, H, W]), or as [N, H, W, 3] pixels in [0, 1] for pictures.
 */
public final class VaeDecoder {
    private final VaeConfig config;
    private final Backend backend;
    private final Codebook codebook;   // null for a KL decoder
    private final Linear postQuant;
    private final Conv.Conv3x3 convIn, convOut;
    private final ResnetBlock midBlock1, midBlock2;
    private final AttnBlock midAttn;
    private final List<Level> levels = new ArrayList<>();   // coarsest first, in the order they run
    private final GroupNorm normOut;

    private record Level(List<ResnetBlock> blocks, List<AttnBlock> attentions, Conv.Conv3x3 upsample) {}

    public VaeDecoder(VaeConfig config, Weights w) {
        this.config = config;
        this.backend = w.backend();
        int[] mult = config.chMult();
        int top = mult.length - 1, in = config.ch() * mult[top];
        DecoderNames names = DecoderNames.of(config.kind());
        codebook = config.kind() == VaeConfig.Kind.VQ ? new Codebook(w, config) : null;
        postQuant = Conv.conv1x1(w, "post_quant_conv", config.embedDim(), config.zChannels());
        Weights d = w.at("decoder.");
        convIn = Conv.Conv3x3.load(d, "conv_in", config.zChannels(), in);
        midBlock1 = new ResnetBlock(d.at(names.midBlock1()), in, in);
        midAttn = new AttnBlock(d.at(names.midAttention()), in);
        midBlock2 = new ResnetBlock(d.at(names.midBlock2()), in, in);
        int side = config.resolution() >> top;
        for (int i = top; i >= 0; i--) {
            Weights u = d.at(names.level(i, mult.length));
            int out = config.ch() * mult[i];
            List<ResnetBlock> blocks = new ArrayList<>();
            List<AttnBlock> attentions = new ArrayList<>();
            for (int j = 0; j <= config.numResBlocks(); j++) {
                blocks.add(new ResnetBlock(u.at(names.resnet(j)), in, out));
                in = out;
                if (config.attentionAt(side)) attentions.add(new AttnBlock(u.at(names.attention(j)), in));
            }
            levels.add(new Level(blocks, attentions, i == 0 ? null : Conv.Conv3x3.load(u, "upsample.conv", in, in)));
            side *= 2;
        }
        normOut = GroupNorm.load(d, "norm_out", in);
        convOut = Conv.Conv3x3.load(d, "conv_out", in, 3);
    }

    /** Loads and checks every weight: missing, misshaped and unexpected tensors are reported together. */
    public static VaeDecoder load(VaeConfig config, WeightSource source, Backend backend) {
        Weights w = new Weights(source, backend);
        VaeDecoder d = new VaeDecoder(config, w);
        w.finish();
        return d;
    }

    public VaeConfig config() {
        return config;
    }

    /**
     * The decoder's output [N, 3, H, W] in about [−1, 1]: AutoencoderKL.decode of z [N, embed_dim, h, w]
     * (unscaled), or VQModel.decode_code of token ids [N, 1, h, w].
     */
    public Tensor decodeRaw(Tensor z) {
        checkLatent(z.shape());
        return backend.nhwcToNchw(run(firstActivation(z), Progress.NONE, 0, 1));
    }

    /**
     * Pictures from a generator's output, latents [N, embed_dim, h, w] scaled as the generator saw them or
     * token ids [N, 1, h, w]: clamp((decoder(z / scale) + 1) / 2, 0, 1) as [N, H, W, 3] on the host (a VQ
     * decoder's scale is 1). One image at a time, so the activation memory is that of a single image; progress
     * counts ResnetBlocks over the whole batch.
     */
    public FloatTensor decodeImages(Tensor latents, Progress progress) {
        Shape s = latents.shape();
        checkLatent(s);
        int n = s.dim(0), blocks = 2 + levels.size() * (config.numResBlocks() + 1);
        FloatTensor z = backend.download(latents);
        float inv = (float) (1.0 / config.scale());   // 1 for VQ: token ids pass exactly (x · 1f = x)
        float[] scaled = new float[z.data().length];
        for (int i = 0; i < scaled.length; i++) scaled[i] = z.data()[i] * inv;
        Tensor all = backend.upload(new FloatTensor(s, scaled));
        int side = s.dim(2) * config.factor(), sideW = s.dim(3) * config.factor();
        float[] pixels = new float[n * side * sideW * 3];
        for (int i = 0; i < n; i++) {
            try (Backend.Scope scope = backend.scope()) {
                Tensor img = run(firstActivation(backend.sliceBatch(all, i, i + 1)), progress, i * blocks, n * blocks);
                float[] x = backend.download(img).data();
                int off = i * side * sideW * 3;
                for (int k = 0; k < x.length; k++) pixels[off + k] = Math.min(1f, Math.max(0f, (x[k] + 1f) * 0.5f));
            }
        }
        progress.update("decode", n * blocks, n * blocks);
        return new FloatTensor(Shape.of(n, side, sideW, 3), pixels);
    }

    /** What post_quant_conv takes, channels-last: the latent transposed, or the token ids' codebook rows. */
    private Tensor firstActivation(Tensor input) {
        return codebook == null ? backend.nchwToNhwc(input) : codebook.lookup(backend, input);
    }

    private Tensor run(Tensor z, Progress progress, int done, int total) {
        Backend b = backend;
        Tensor h = convIn.apply(b, postQuant.apply(b, z));
        h = midBlock2.apply(b, midAttn.apply(b, midBlock1.apply(b, h)));
        progress.update("decode", done += 2, total);
        for (Level level : levels) {
            for (int j = 0; j < level.blocks.size(); j++) {
                h = level.blocks.get(j).apply(b, h);
                if (!level.attentions.isEmpty()) h = level.attentions.get(j).apply(b, h);
                progress.update("decode", ++done, total);
            }
            if (level.upsample != null) h = level.upsample.apply(b, b.upsampleNearest2x(h));
        }
        return convOut.apply(b, normOut.apply(b, h, true));
    }

    private void checkLatent(Shape s) {
        int c = config.inputChannels();
        if (s.rank() != 4 || s.dim(1) != c) {
            String what = codebook == null ? "latent " + s + " must be [N, " + c + ", h, w] (" + c + " latent channels)"
                    : "index map " + s + " must be [N, 1, h, w] (token ids in [0, " + config.codebookSize() + "))";
            throw new IllegalArgumentException("VAE " + config.name() + ": " + what);
        }
    }
}
