package ecar.flowar;

import ecar.family.PerImageGenerator;
import ecar.family.ImageRows;
import ecar.family.Sampling;
import ecar.model.Progress;
import ecar.tensor.Tensor;

/** The FlowAR modules as a generator under the schedule of the settings (FlowAR's or ECAR's). */
final class FlowArGenerator implements PerImageGenerator {
    private final TokenSampler sampler;
    private final FlowArConfig config;

    FlowArGenerator(FlowAr model, ecar.backend.Backend backend) {
        this.sampler = new TokenSampler(model, backend);
        this.config = model.config();
    }


    /** KL-16 token maps [N, 16, h, w]; each stage's noise from Philox stream (seed, stage) drawn per image. */
    @Override
    public Tensor sample(int[] labels, int[] images, Sampling sampling, long seed, Progress progress) {
        ImageRows.check(labels, images);
        TokenSchedule schedule = ((FlowArSampling) sampling).schedule(config);
        return sampler.sample(labels, schedule, TokenSampler.NoiseSource.perImage(seed, images), new TokenSampler.Observer() {
            @Override
            public void step(int done, int total) {
                progress.update("sampling", done, total);
            }
        });
    }
}
