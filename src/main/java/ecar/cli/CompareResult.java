package ecar.cli;

import java.util.List;

/** One model of {@code ecar compare}: what it is and costs per image, and its measurement at each batch size. */
record CompareResult(ComparePlan.Model model, long parameters, double loadSeconds, List<BatchMeasurement> batches) {

    CompareResult {
        batches = List.copyOf(batches);
    }

    String name() {
        return model.name();
    }

    /** The measurement at this batch size; null when the model was not run at it. */
    BatchMeasurement at(int batch) {
        for (BatchMeasurement m : batches) if (m.batch() == batch) return m;
        return null;
    }
}
