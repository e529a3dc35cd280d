package ecar.cli;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * Everything a finished {@code compare} measurement reports: where and when it ran, the plan, and the results.
 *
 * @param peakTeraflops the device's dense bf16 peak (NaN where unknown: the CPU, an unlisted card)
 */
record CompareRun(String backend, double peakTeraflops, OffsetDateTime started, String command, ComparePlan plan, List<CompareResult> results) {

    CompareRun {
        results = List.copyOf(results);
    }

    /** The row the ratios are taken against: the first DiT (the baseline ECAR is compared with), else the first. */
    CompareResult baseline() {
        return results.stream().filter(r -> r.model().preset().family().id().equals("dit")).findFirst().orElse(results.get(0));
    }

    List<String> outOfMemory() {
        return results.stream().flatMap(r -> r.batches().stream().filter(m -> !m.isMeasured())
                .map(m -> r.name() + " at batch " + m.batch() + ": " + m.outOfMemory())).toList();
    }
}
