package ecar.cli;

import ecar.io.SafeTensorsException;
import ecar.model.WeightsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ecar} command line. */
@Command(name = "ecar", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Generate images with ECAR (multistage continuous-token AR) and the DiT baseline, and compare them.",
        subcommands = {GenerateCommand.class, SampleSetCommand.class, CompareCommand.class, InfoCommand.class, CheckCommand.class, FlopsCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            line.getErr().println("ecar: " + describe(ex));
            if (Boolean.getBoolean("ecar.trace")) ex.printStackTrace(line.getErr());
            return 1;
        });
        return cl.execute(args);
    }

    /** One line (or an itemised list for weights) for errors a user can fix; the class name for the rest. */
    static String describe(Throwable ex) {
        if (ex instanceof IllegalArgumentException || ex instanceof SafeTensorsException || ex instanceof WeightsException
                || ex instanceof ArithmeticException || ex instanceof IllegalStateException || ex instanceof UserError || ex instanceof java.io.IOException) {
            return ex.getMessage();
        }
        return ex.getClass().getSimpleName() + ": " + ex.getMessage() + " (run with -Decar.trace=true for the stack trace)";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"ecar-runtime " + (v == null ? "(development build)" : v)};
        }
    }
}
