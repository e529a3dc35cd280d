package ecar.selfcheck;

/**
 * Something that finds out whether the GPU backend computes what the CPU reference does. An interface so that the
 * decision around it ({@link AutoChoice}) can be tested with a fake on machines without a GPU.
 */
@FunctionalInterface
public interface SelfCheck {
    /** The verdict; may throw, which {@link AutoChoice} counts as a failure with the throwable as the reason. */
    Verdict run();
}
