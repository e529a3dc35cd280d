package ecar.cli;

import ecar.io.SafeTensorsException;
import ecar.model.WeightsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ecar} command line. */
@Command(name = "ecar", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Generate images with ECAR (multistage continuous-token AR) and the DiT baseline, and compare them.",
        subcommands = {GenerateCommand.class, SampleSetCommand.class, CompareCommand.class, ProfileCommand.class, InfoCommand.class, CheckCommand.class, FlopsCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        return execute(new CommandLine(new Main()), args);
    }

    /**
     * Runs a command line with ecar's error reporting: every failure, exceptions and errors alike, is one line on stderr
     * and exit code 1; the stack trace only with -Decar.trace=true.
     */
    static int execute(CommandLine cl, String... args) {
        cl.setExecutionExceptionHandler((ex, line, parsed) -> report(ex, line.getErr()));
        try {
            return cl.execute(args);
        } catch (Error e) {   // picocli hands only exceptions to the handler: an OutOfMemoryError or StackOverflowError comes here
            return report(e, cl.getErr());
        }
    }

    private static int report(Throwable ex, java.io.PrintWriter err) {
        err.println("ecar: " + describe(ex));
        if (Boolean.getBoolean("ecar.trace")) ex.printStackTrace(err);
        err.flush();
        return 1;
    }

    /** One line (or an itemised list for weights) for errors a user can fix; the class name for the rest. */
    static String describe(Throwable ex) {
        if (ex instanceof CompareBenchmark.Aborted a) return a.describe(Main::describe);
        if (ex instanceof IllegalArgumentException || ex instanceof SafeTensorsException || ex instanceof WeightsException
                || ex instanceof ArithmeticException || ex instanceof IllegalStateException || ex instanceof UserError || ex instanceof java.io.IOException) {
            return ex.getMessage();
        }
        if (ex instanceof OutOfMemoryError) {
            return String.format(java.util.Locale.ROOT, "out of memory (%s): the Java heap is limited to %.1f GiB; ask for less (fewer labels, a smaller "
                    + "image) or give Java more with ECAR_JAVA_OPTS=-Xmx<size>", ex.getMessage(), Runtime.getRuntime().maxMemory() / (double) (1L << 30));
        }
        if (ex instanceof StackOverflowError) {
            return "stack overflow: an input nests deeper than the code can follow (run with -Decar.trace=true for where)";
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
