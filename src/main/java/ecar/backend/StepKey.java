package ecar.backend;

/**
 * Names one kind of sampling step for {@link Backend#step}: two steps with equal keys must queue the same ops on
 * tensors of the same shapes, so that a GPU backend may capture the first and replay it for the second. The values
 * that change from step to step travel in {@link StepScalars}; anything else that changes the launched work (guided
 * or not, DDPM's last step without noise, the stage's grid) belongs in {@code work} or {@code stage}.
 *
 * @param model the model object the step runs (compared by identity: models do not override equals)
 * @param work  what the step does, e.g. "ddpm guided" or "flow-head unguided"
 * @param stage the stage of a multistage sampler (0 for single-stage ones)
 * @param batch the batch the step runs on
 * @param variant anything else the body bakes into its launches, compared by value (a DiT loop's rows of per-image
 *                noise: List.of(image indices)); null when the other fields say it all
 */
public record StepKey(Object model, String work, int stage, int batch, Object variant) {
    public StepKey {
        Check.that(model != null && work != null && !work.isBlank(), "StepKey", "a model and a description of the work are required");
        Check.that(stage >= 0 && batch > 0, "StepKey", "stage " + stage + " and batch " + batch + "; expected stage ≥ 0 and batch > 0");
    }

    public StepKey(Object model, String work, int stage, int batch) {
        this(model, work, stage, batch, null);
    }

    @Override
    public String toString() {
        return model.getClass().getSimpleName() + " " + work + ", stage " + stage + ", batch " + batch;
    }
}
