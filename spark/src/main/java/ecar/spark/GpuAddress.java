package ecar.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The GPU Spark's resource scheduling gave a task (spark.executor.resource.gpu.amount = 1 and
 * spark.task.resource.gpu.amount = 1): its address, which the discovery script reports as the CUDA device ordinal.
 */
final class GpuAddress {
    private GpuAddress() {}

    /** The task's GPU as a device ordinal, or -1 when the task was given none. */
    static int ofCurrentTask() {
        TaskContext t = TaskContext.get();
        if (t == null) return -1;
        ResourceInformation gpu = t.resources().get("gpu").getOrElse(() -> null);
        if (gpu == null || gpu.addresses().length == 0) return -1;
        if (gpu.addresses().length > 1) {
            throw new IllegalStateException("the task was given GPUs " + String.join(", ", gpu.addresses()) + "; a sample-set task uses one: set "
                    + "spark.task.resource.gpu.amount=1");
        }
        return ordinal(gpu.addresses()[0]);
    }

    /** An address such as "0" or "3" as an ordinal; anything else is an error naming it. */
    static int ordinal(String address) {
        try {
            int i = Integer.parseInt(address.strip());
            if (i >= 0) return i;
        } catch (NumberFormatException e) {
            // named below
        }
        throw new IllegalArgumentException("GPU address '" + address + "' is not a CUDA device ordinal (0, 1, …); make the GPU discovery script "
                + "report ordinals, as Spark's getGpusResources.sh does");
    }
}
