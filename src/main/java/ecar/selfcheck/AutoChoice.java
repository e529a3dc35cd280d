package ecar.selfcheck;

import java.time.Clock;
import java.time.LocalDate;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether {@code --backend auto} runs on the GPU: only when a GPU and the kernels are present, the self-check is not
 * switched off ({@value #ENV}=0), and the self-check passed on this device, driver and build, its verdict read from
 * the cache or, the first time, run and stored. Everything it needs is passed in, so the decision is tested without
 * a GPU; it opens no backend itself.
 */
public final class AutoChoice {
    /** Set to 0 (or false, off, no) to keep {@code auto} on the CPU without checking the GPU. */
    public static final String ENV = "ECAR_GPU_SELFCHECK";

    /** The outcome: the GPU or not, and the one line to tell the user (null when there is nothing worth saying). */
    public record Decision(boolean useGpu, String message, boolean checkRan) {}

    /** What the machine offers: a usable GPU with the kernels (device names it), or not. */
    public record Gpu(boolean ready, String device, Supplier<SelfCheckKey> key) {
        public static Gpu absent() {
            return new Gpu(false, "", null);
        }
    }

    private final Map<String, String> env;
    private final Optional<VerdictCache> cache;
    private final SelfCheck check;
    private final Clock clock;

    public AutoChoice(Map<String, String> env, Optional<VerdictCache> cache, SelfCheck check, Clock clock) {
        this.env = env;
        this.cache = cache;
        this.check = check;
        this.clock = clock;
    }

    public static boolean disabled(Map<String, String> env) {
        String v = env.get(ENV);
        return v != null && switch (v.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "0", "false", "off", "no" -> true;
            default -> false;
        };
    }

    public Decision decide(Gpu gpu) {
        if (!gpu.ready()) return new Decision(false, null, false);   // no GPU: the CPU, as always, without a word
        String who = "ecar: GPU " + gpu.device() + ": ";
        if (disabled(env)) {
            return new Decision(false, who + "self-check disabled by " + ENV + "=" + env.get(ENV)
                    + " — using the CPU backend (--backend cuda forces the GPU)", false);
        }
        SelfCheckKey key = gpu.key().get();
        Optional<Verdict> cached = cache.flatMap(c -> c.read(key));
        Verdict v = cached.orElseGet(() -> runAndStore(key));
        String how = cached.isPresent() ? " (cached " + v.date() + ")" : "";
        if (v.passed()) return new Decision(true, who + "self-check passed" + how + " — using the CUDA backend", cached.isEmpty());
        return new Decision(false, who + "self-check failed" + how + ": " + v.reason()
                + " — using the CPU backend (--backend cuda forces the GPU)", cached.isEmpty());
    }

    /** Runs the check now (a throw counts as a failure, with its reason) and stores the verdict where it can. */
    public Verdict runAndStore(SelfCheckKey key) {
        Verdict v;
        try {
            v = check.run();
            if (v == null) v = Verdict.fail("the self-check returned no verdict", LocalDate.now(clock));
        } catch (Throwable t) {
            v = Verdict.fail(t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage()), LocalDate.now(clock));
        }
        Verdict stored = v;
        cache.ifPresent(c -> c.write(key, stored));   // unwritable: fine, the check runs again next time
        return v;
    }
}
