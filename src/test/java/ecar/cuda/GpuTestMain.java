package ecar.cuda;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.PrintWriter;

/**
 * Runs the tests of a package (default ecar.cuda, sub-packages included) with the JUnit launcher, for GPU machines
 * that have the bundle's Java but no Maven (tools/gpu_kit.sh). Prints each failure and skip with its reason, ends
 * with "N passed, N failed, N skipped" and exits 1 on any failure.
 */
public final class GpuTestMain {
    private GpuTestMain() {}

    public static void main(String[] args) {
        String pkg = args.length > 0 ? args[0] : "ecar.cuda";
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(DiscoverySelectors.selectPackage(pkg)).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener printer = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                System.out.println("SKIPPED " + id.getDisplayName() + ": " + reason);
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) return;
                String why = result.getThrowable().map(t -> String.valueOf(t.getMessage())).orElse("");
                switch (result.getStatus()) {
                    case ABORTED -> System.out.println("SKIPPED " + id.getLegacyReportingName() + ": " + why);
                    case FAILED -> System.out.println("FAILED  " + id.getUniqueId() + ": " + result.getThrowable().map(Throwable::toString).orElse(""));
                    default -> { }
                }
            }
        };
        launcher.execute(request, summary, printer);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printFailuresTo(out, 40);
        s.printTo(out);
        long skipped = s.getTestsSkippedCount() + s.getTestsAbortedCount();
        System.out.println(s.getTestsSucceededCount() + " passed, " + s.getTestsFailedCount() + " failed, " + skipped + " skipped");
        System.exit(s.getTestsFailedCount() > 0 || s.getTotalFailureCount() > 0 ? 1 : 0);
    }
}
