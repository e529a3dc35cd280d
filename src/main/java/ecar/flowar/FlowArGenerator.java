package ecar.flowar;

import ecar.family.Generator;
import ecar.family.Sampling;
import ecar.model.Progress;
import ecar.tensor.Tensor;

/** The FlowAR modules as a generator under the schedule of the settings (FlowAR's or ECAR's). */
final class FlowArGenerator implements Generator {
    private final TokenSampler sampler;
    private final FlowArConfig config;

    FlowArGenerator(FlowAr model, ecar.backend.Backend backend) {
        this.sampler = new TokenSampler(model, backend);
        this.config = model.config();
    }

    /** KL-16 token maps [N, 16, h, w]; noise from Philox streams (seed, stage). */
    @Override
    public Tensor sample(int[] labels, Sampling sampling, long seed, Progress progress) {
        TokenSchedule schedule = ((FlowArSampling) sampling).schedule(config);
        return sampler.sample(labels, schedule, TokenSampler.NoiseSource.philox(seed), new TokenSampler.Observer() {
            @Override
            public void step(int done, int total) {
                progress.update("sampling", done, total);
            }
        });
    }
}
