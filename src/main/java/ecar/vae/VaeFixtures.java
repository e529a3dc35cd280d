package ecar.vae;

import ecar.fixture.FixtureKind;

import ecar.fixture.Comparison;
import ecar.fixture.Fixture;
import ecar.fixture.Tolerance;

import ecar.backend.Backend;
import ecar.tensor.Tensor;

import java.util.List;

/**
 * The decoders' fixture kinds: vae.decode (AutoencoderKL.decode: post_quant_conv, then the LDM decoder) and
 * vq.decode (LlamaGen's VQModel.decode_code: codebook lookup, post_quant_conv, the LlamaGen decoder).
 */
public final class VaeFixtures {
    private VaeFixtures() {}

    /** The decoders' fixture kinds. */
    public static final List<FixtureKind> KINDS = List.of(
            new FixtureKind("vae.decode", VaeFixtures::decode),
            new FixtureKind("vq.decode", VaeFixtures::decodeCode));

    public static List<Comparison> decode(Fixture f, Backend b) {
        return compare(f, b, f.input(b, "z"));
    }

    /** indices [N, h·w] (int64, raster order) fed to the decoder as the index map [N, 1, h, w] a generator makes. */
    public static List<Comparison> decodeCode(Fixture f, Backend b) {
        int[] ids = f.ints("indices");
        int n = f.file().get("input.indices").shape().dim(0), side = (int) Math.round(Math.sqrt(ids.length / (double) n));
        return compare(f, b, b.upload(IndexMap.of(ids, n, side)));
    }

    private static List<Comparison> compare(Fixture f, Backend b, Tensor input) {
        VaeConfig cfg = VaeConfig.fromJson(f.config(), f.path().getFileName().toString());
        VaeDecoder vae = VaeDecoder.load(cfg, VaeKeys.source(f.file(), "model."), b);
        Tensor image = vae.decodeRaw(input);
        return List.of(Comparison.of("image", b.download(image), f.expected("image"), Tolerance.FORWARD));
    }
}
