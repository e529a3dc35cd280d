package ecar.io;

import ecar.tensor.FloatTensor;

import java.nio.file.Path;

/** Writes a one-tensor safetensors file to the path given: the child process of ecar.cli.InterruptedWriteTest. */
public final class WriteSafeTensorsMain {
    private WriteSafeTensorsMain() {}

    public static void main(String[] args) throws Exception {
        new SafeTensorsWriter().add("x", FloatTensor.of(new float[]{1, 2, 3}, 3)).write(Path.of(args[0]));
    }
}
