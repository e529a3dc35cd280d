package ecar.sample;

import ecar.dit.DiTConfig;
import ecar.family.Preset;
import ecar.flops.CountingBackend;
import ecar.flowar.FlowArConfig;
import ecar.io.Json;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.vae.VaeConfig;
import ecar.vae.VaeDecoder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * tools/infer_config.py on the names and shapes of the full-size models (no weights: the shapes the models ask for,
 * recorded on the counting backend, with the buffers official checkpoints add): it must give back every preset's
 * architecture, DiT-XL/2 at 512², and the named decoders. Needs python3 (no torch).
 */
class InferConfigTest {
    @TempDir
    Path dir;

    /** The shape of every tensor a model asks for, without making any of them. */
    private static final class ShapeRecorder implements WeightSource {
        final Map<String, Shape> shapes = new LinkedHashMap<>();
        private final RandomWeights values = new RandomWeights(0);

        @Override
        public FloatTensor get(String name, Shape expected) {
            return values.get(name, expected);
        }

        @Override
        public Shape shape(String name, Shape expected) {
            shapes.put(name, expected);
            return expected;
        }

        @Override
        public Set<String> names() {
            return Set.of();
        }

        @Override
        public String describe() {
            return "shapes";
        }
    }

    private static Map<String, Shape> shapes(Preset preset) {
        ShapeRecorder r = new ShapeRecorder();
        preset.family().load(preset, new Weights(r, new CountingBackend()));
        Map<String, Shape> s = new LinkedHashMap<>(r.shapes);
        if (preset.architecture() instanceof DiTConfig c) s.put("pos_embed", Shape.of(1, c.tokens(), c.hiddenSize()));
        if (preset.architecture() instanceof FlowArConfig c) {
            s.put("encoder_pos_embed_learned", Shape.of(1, c.seqLen(), c.dim()));   // read as host tensors, not recorded
            s.put("diffusion_pos_embed_learned", Shape.of(1, c.seqLen(), c.dim()));
            for (int i = 0; i < c.encDepth(); i++) s.put("encoder_blocks." + i + ".attn.rope.freqs", Shape.of(c.dim() / c.heads() / 4));
        }
        return s;
    }

    private static Map<String, Shape> decoderShapes(VaeConfig v) {
        ShapeRecorder r = new ShapeRecorder();
        VaeDecoder.load(v, r, new CountingBackend());
        return r.shapes;
    }

    private static final String INFER = """
            import json, sys
            sys.path.insert(0, "tools")
            import infer_config
            class T:
                def __init__(self, shape): self.shape = shape
            cases = json.load(open(sys.argv[1]))
            out = {}
            for name, (kind, shapes) in cases.items():
                t = {n: T(s) for n, s in shapes.items()}
                if kind == "vae":
                    out[name] = infer_config.vae(t, "dit")[0]
                else:
                    out[name] = (infer_config.dit(t) if infer_config.family_of(t) == "dit" else infer_config.flowar(t))[0]
            print(json.dumps(out))
            """;

    @Test
    void everyPresetsArchitectureAndDecoderComeBackFromItsShapes() throws Exception {
        Map<String, Object> cases = new LinkedHashMap<>();
        Map<String, Preset> presets = new LinkedHashMap<>();
        for (String size : List.of("s", "b", "l", "xl")) for (int p : new int[]{2, 4, 8}) presets.put("dit-" + size + "-" + p, Presets.get("dit-" + size + "-" + p));
        presets.put("dit-xl-2 at 512", Presets.get("dit-xl-2").atImageSize(512));
        for (String size : List.of("s", "l", "h")) presets.put("flowar-" + size, Presets.get("flowar-" + size));
        presets.put("flowar-l at 512", Presets.get("flowar-l").atImageSize(512));
        presets.forEach((name, p) -> cases.put(name, List.of("model", shapes(p))));
        for (VaeConfig v : List.of(VaeConfig.kl16(), VaeConfig.sdF8(), VaeConfig.vq16())) cases.put(v.name(), List.of("vae", decoderShapes(v)));
        Path input = dir.resolve("shapes.json");
        Files.writeString(input, Json.write(toJson(cases)));
        TorchPython.Result r;
        try {
            r = TorchPython.run(List.of("python3", "-c", INFER, input.toString()));
        } catch (java.io.IOException e) {
            Assumptions.abort("python3 is not installed: tools/infer_config.py not tested");
            return;
        }
        assertEquals(0, r.exit(), r.log());
        Json.Obj found = Json.Obj.parse(r.log(), "infer_config output");
        for (var e : presets.entrySet()) {
            @SuppressWarnings("unchecked") Json.Obj numbers = new Json.Obj((Map<String, Object>) found.map().get(e.getKey()), e.getKey());
            Preset p = e.getValue();
            Object read = p.architecture() instanceof DiTConfig c ? c.with(numbers) : ((FlowArConfig) p.architecture()).with(numbers);
            assertEquals(p.architecture(), read, e.getKey());
        }
        for (String v : List.of("kl16", "sd-f8", "vq16")) assertEquals(v, found.map().get(v), "the " + v + " decoder's shapes");
    }

    private static Object toJson(Object o) {
        if (o instanceof Shape s) return s.toArray();
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> r = new LinkedHashMap<>();
            m.forEach((k, v) -> r.put((String) k, toJson(v)));
            return r;
        }
        if (o instanceof List<?> l) return l.stream().map(InferConfigTest::toJson).toList();
        return o;
    }
}
