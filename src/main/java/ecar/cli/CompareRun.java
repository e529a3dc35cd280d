package ecar.cli;

import java.time.OffsetDateTime;
import java.util.List;

/** Everything a finished {@code compare} measurement reports: where and when it ran, the plan, and the results. */
record CompareRun(String backend, OffsetDateTime started, String command, ComparePlan plan, List<CompareResult> results) {

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
