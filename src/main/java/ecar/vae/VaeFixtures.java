package ecar.vae;

import ecar.fixture.FixtureKind;

import ecar.fixture.Comparison;
import ecar.fixture.Fixture;
import ecar.fixture.Tolerance;

import ecar.backend.Backend;
import ecar.tensor.Tensor;

import java.util.List;

/** The vae.decode fixture kind: AutoencoderKL.decode (post_quant_conv, then the LDM decoder). */
public final class VaeFixtures {
    private VaeFixtures() {}

    /** The decoders' fixture kinds. */
    public static final List<FixtureKind> KINDS = List.of(new FixtureKind("vae.decode", VaeFixtures::decode));

    public static List<Comparison> decode(Fixture f, Backend b) {
        VaeConfig cfg = VaeConfig.fromJson(f.config(), f.path().getFileName().toString());
        VaeDecoder vae = VaeDecoder.load(cfg, VaeKeys.source(f.file(), "model."), b);
        Tensor image = vae.decodeRaw(f.input(b, "z"));
        return List.of(Comparison.of("image", b.download(image), f.expected("image"), Tolerance.FORWARD));
    }
}
