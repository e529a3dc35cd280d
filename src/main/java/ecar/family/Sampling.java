package ecar.family;

/**
 * A family's sampling settings (a record of the family's package), validated on creation. Requests and the command
 * line change them by option name; an option the family does not use is an error naming the options it does.
 */
public interface Sampling {

    /** These settings with the overrides applied, in order. */
    Sampling with(SamplingOverrides overrides);

    /** The settings in words, e.g. "DDPM 250 steps, cfg 1.50 (official 3-channel guidance)". */
    String describe();
}
