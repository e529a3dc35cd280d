package ecar.tools;

import ecar.PythonScripts;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tools/kernel_times.py, which turns Nsight Compute's CSV into the per-kernel table of a GPU visit (gpu_session.sh step
 * 10), parses without a GPU: its built-in sample, and a file that holds no CSV is refused with the reason.
 */
class KernelTimesScriptTest {

    @Test
    void parsesNcuCsvAndRefusesOtherInput(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(PythonScripts.python3(), "python3 is not installed");
        PythonScripts.Result self = PythonScripts.run(List.of("python3", "tools/kernel_times.py", "--selftest"));
        assertEquals(0, self.exit(), self.log());
        assertTrue(self.log().contains("kernel_times selftest: ok"), self.log());

        Path junk = Files.writeString(dir.resolve("junk.log"), "==PROF== no kernels were profiled\n");
        PythonScripts.Result refused = PythonScripts.run(List.of("python3", "tools/kernel_times.py", junk.toString()));
        assertNotEquals(0, refused.exit());
        assertTrue(refused.log().contains("kernel_times: no ncu CSV header"), refused.log());
    }
}
