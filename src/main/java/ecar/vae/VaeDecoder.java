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
 * The KL autoencoder's decoder in LDM's layout (MODELS.md §4): post_quant_conv (1×1) → conv_in → mid
 * (ResnetBlock, AttnBlock, ResnetBlock) → up levels from the coarsest, each num_res_blocks + 1 ResnetBlocks
 * and, except the finest, a nearest ×2 upsample and 3×3 conv → GroupNorm → SiLU → conv_out.
 * Activations are channels-last [N, H, W, C] throughout; latents come in and images go out as PyTorch lays
 * them out ([N, C, h, w]), or as [N, H, W, 3] pixels in [0, 1] for pictures.
 */
public final class VaeDecoder {
    private final VaeConfig config;
    private final Backend backend;
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
        postQuant = Conv.conv1x1(w, "post_quant_conv", config.embedDim(), config.zChannels());
        Weights d = w.at("decoder.");
        convIn = Conv.Conv3x3.load(d, "conv_in", config.zChannels(), in);
        midBlock1 = new ResnetBlock(d.at("mid.block_1."), in, in);
        midAttn = new AttnBlock(d.at("mid.attn_1."), in);
        midBlock2 = new ResnetBlock(d.at("mid.block_2."), in, in);
        int side = config.resolution() >> top;
        for (int i = top; i >= 0; i--) {
            Weights u = d.at("up." + i + ".");
            int out = config.ch() * mult[i];
            List<ResnetBlock> blocks = new ArrayList<>();
            List<AttnBlock> attentions = new ArrayList<>();
            for (int j = 0; j <= config.numResBlocks(); j++) {
                blocks.add(new ResnetBlock(u.at("block." + j + "."), in, out));
                in = out;
                if (config.attentionAt(side)) attentions.add(new AttnBlock(u.at("attn." + j + "."), in));
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

    /** AutoencoderKL.decode: z [N, embed_dim, h, w] (unscaled) to the decoder's output [N, 3, H, W] in about [−1, 1]. */
    public Tensor decodeRaw(Tensor z) {
        checkLatent(z.shape());
        return backend.nhwcToNchw(run(backend.nchwToNhwc(z), Progress.NONE, 0, 1));
    }

    /**
     * Pictures from a generator's latents [N, embed_dim, h, w] (scaled as the generator saw them):
     * clamp((decoder(z / scale) + 1) / 2, 0, 1) as [N, H, W, 3] on the host. One image at a time, so the
     * activation memory is that of a single image; progress counts ResnetBlocks over the whole batch.
     */
    public FloatTensor decodeImages(Tensor latents, Progress progress) {
        Shape s = latents.shape();
        checkLatent(s);
        int n = s.dim(0), blocks = 2 + levels.size() * (config.numResBlocks() + 1);
        FloatTensor z = backend.download(latents);
        float inv = (float) (1.0 / config.scale());
        float[] scaled = new float[z.data().length];
        for (int i = 0; i < scaled.length; i++) scaled[i] = z.data()[i] * inv;
        Tensor all = backend.upload(new FloatTensor(s, scaled));
        int side = s.dim(2) * config.factor(), sideW = s.dim(3) * config.factor();
        float[] pixels = new float[n * side * sideW * 3];
        for (int i = 0; i < n; i++) {
            try (Backend.Scope scope = backend.scope()) {
                Tensor img = run(backend.nchwToNhwc(backend.sliceBatch(all, i, i + 1)), progress, i * blocks, n * blocks);
                float[] x = backend.download(img).data();
                int off = i * side * sideW * 3;
                for (int k = 0; k < x.length; k++) pixels[off + k] = Math.min(1f, Math.max(0f, (x[k] + 1f) * 0.5f));
            }
        }
        progress.update("decode", n * blocks, n * blocks);
        return new FloatTensor(Shape.of(n, side, sideW, 3), pixels);
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
        if (s.rank() != 4 || s.dim(1) != config.embedDim()) {
            throw new IllegalArgumentException("VAE " + config.name() + ": latent " + s + " must be [N, " + config.embedDim()
                    + ", h, w] (" + config.embedDim() + " latent channels)");
        }
    }
}
