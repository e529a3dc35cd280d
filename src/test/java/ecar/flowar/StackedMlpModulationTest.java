package ecar.flowar;

import ecar.backend.cpu.CpuBackend;
import ecar.sample.Presets;
import ecar.model.RandomWeights;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * (ecar-tiny-v2: a head of three v2 blocks, random weights.) The flow head's per-token MLP modulation made once for every block (one GEMM on the stacked ada_lin_mlp, the chunks
 * read in place) and made by each block from its rows of the stacked weight (large batches) give the same velocity,
 * bit for bit, on the CPU: the same products, read at other offsets.
 */
class StackedMlpModulationTest {

    @Test
    void stackedAndPerBlockModulationGiveTheSameVelocity() {
        CpuBackend cpu = new CpuBackend();
        FlowArConfig cfg = (FlowArConfig) Presets.get("ecar-tiny-v2").architecture();
        assertTrue(cfg.cross() && cfg.headDepth() == 3, "ecar-tiny-v2 has a head of three v2 blocks: " + cfg);
        FlowHead head = FlowAr.load(cfg, new Weights(new RandomWeights(11), cpu)).head();
        int batch = 2, side = cfg.side(cfg.stages() - 1), l = side * side;
        Random rnd = new Random(5);
        float[] x = new float[batch * l * cfg.tokenDim()], c = new float[batch * l * cfg.dim()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < c.length; i++) c[i] = (float) rnd.nextGaussian();
        FloatTensor xs = FloatTensor.of(x, batch, l, cfg.tokenDim()), cond = FloatTensor.of(c, batch, l, cfg.dim());
        float[] t = {0.3f, 0.7f};
        float[] stacked = cpu.download(head.withStackedMlpModulationBytes(FlowHead.STACKED_MLP_MODULATION_BYTES).forward(xs, t, cond)).data();
        float[] perBlock = cpu.download(head.withStackedMlpModulationBytes(0).forward(xs, t, cond)).data();
        assertTrue(stacked.length == Shape.of(batch, l, cfg.tokenDim()).numel(), "a velocity per token");
        assertArrayEquals(stacked, perBlock, 0f);
    }
}
