package ecar.model;

/** Observes a long run: (done, total) units of the named phase ("sampling", "decoding"). */
@FunctionalInterface
public interface Progress {
    Progress NONE = (phase, done, total) -> {};

    void update(String phase, int done, int total);
}
