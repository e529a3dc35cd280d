package ecar.selfcheck;

import java.time.LocalDate;

/** The outcome of a GPU self-check: passed or not, why not (empty when passed), and the day it ran. */
public record Verdict(boolean passed, String reason, LocalDate date) {
    public Verdict {
        if (reason == null) reason = "";
    }

    public static Verdict pass(LocalDate date) {
        return new Verdict(true, "", date);
    }

    public static Verdict fail(String reason, LocalDate date) {
        return new Verdict(false, reason, date);
    }
}
