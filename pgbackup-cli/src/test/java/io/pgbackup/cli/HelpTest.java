package io.pgbackup.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every command's help renders without a picocli warning, has a summary that is a whole sentence,
 * answers {@code --help}, and {@code pgbackup help CMD} prints it. Commands added later are covered
 * automatically: the test walks {@link Main#SUBCOMMANDS} and their subcommands.
 */
class HelpTest {
    @Test
    void everyCommandHasWorkingHelpWithWholeSentenceSummaries() {
        List<String> problems = new ArrayList<>();
        Run root = run("--help");
        assertThat(root.code).as(root.err).isZero();
        for (Map.Entry<String, Class<?>> entry : Main.SUBCOMMANDS.entrySet()) {
            walk(List.of(entry.getKey()), new CommandLine(entry.getValue()), root.out, problems);
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void backupHelpThroughTheJarExitsZero() throws Exception {
        CliProcess.Result help = CliProcess.run(Map.of(), "backup", "--help");
        assertThat(help.exitCode()).as(help.all()).isZero();
        assertThat(help.stdout()).contains("Usage: pgbackup backup").contains("replication protocol").contains("--help");
        assertThat(help.stderr()).isEmpty();
        CliProcess.Result walFetch = CliProcess.run(Map.of(), "help", "wal-fetch");
        assertThat(walFetch.exitCode()).as(walFetch.all()).isZero();
        assertThat(walFetch.stdout()).contains("(%f)").contains("(%p)");
        assertThat(walFetch.stderr()).isEmpty();
    }

    private static void walk(List<String> path, CommandLine command, String rootHelp, List<String> problems) {
        String name = String.join(" ", path);
        CommandLine.Model.CommandSpec spec = command.getCommandSpec();
        if (spec.usageMessage().hidden()) {
            return;
        }
        if (spec.findOption("--help") == null) {
            problems.add(name + ": no --help option (mixinStandardHelpOptions = true)");
        }
        String summary = summary(spec);
        if (!(summary.endsWith(".") || summary.endsWith(")"))) {
            problems.add(name + ": summary does not end a sentence: '" + summary + "'");
        }
        if (path.size() == 1 && !rootHelp.replaceAll("\\s+", " ").contains(summary.replaceAll("\\s+", " "))) {
            problems.add(name + ": the command list does not show the whole summary '" + summary + "'");
        }
        // A description element is a line of its own: one ending mid-sentence breaks the text in two.
        List<String> lines = new ArrayList<>(List.of(spec.usageMessage().description()));
        spec.args().forEach(arg -> lines.addAll(List.of(arg.description())));
        lines.stream().filter(line -> !line.strip().matches(".*[.):]$"))
                .forEach(line -> problems.add(name + ": a help line breaks mid-sentence: '" + line + "'"));
        List<String> args = new ArrayList<>(path);
        args.add("--help");
        Run direct = run(args.toArray(String[]::new));
        if (direct.code != 0 || !direct.out.contains("Usage: pgbackup " + name)) {
            problems.add(name + " --help: exit " + direct.code + ", " + direct.err);
        }
        if (!direct.err.isEmpty()) {
            problems.add(name + " --help wrote to stderr (a picocli warning?): " + direct.err);
        }
        if (path.size() == 1) {
            Run help = run("help", name);
            if (help.code != 0 || !help.out.equals(direct.out) || !help.err.isEmpty()) {
                problems.add("help " + name + ": exit " + help.code + ", stderr " + help.err);
            }
        }
        command.getSubcommands().forEach((sub, cl) -> {
            List<String> subPath = new ArrayList<>(path);
            subPath.add(sub);
            walk(subPath, cl, rootHelp, problems);
        });
    }

    /** What the command list shows: the header's first line, else the description's. */
    private static String summary(CommandLine.Model.CommandSpec spec) {
        String[] header = spec.usageMessage().header();
        String[] description = spec.usageMessage().description();
        return header.length > 0 ? header[0] : description.length > 0 ? description[0] : "";
    }

    private record Run(int code, String out, String err) {
    }

    /** Runs in-process; picocli's own warnings go to System.err, so that is captured too. */
    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream systemErr = System.err;
        PrintStream capture = new PrintStream(err, true, StandardCharsets.UTF_8);
        System.setErr(capture);
        try {
            int code = Main.run(args, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8), capture);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(systemErr);
        }
    }
}
