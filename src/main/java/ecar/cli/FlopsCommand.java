package ecar.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "flops", description = "Analytic multiply-accumulate and FLOP counts per component and per pipeline.")
final class FlopsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UserError("flops: not built yet");
    }
}
