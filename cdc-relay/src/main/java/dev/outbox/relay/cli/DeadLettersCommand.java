package dev.outbox.relay.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.console.DeadLetterActions;
import dev.outbox.relay.console.DeadLetterFilter;
import dev.outbox.relay.console.DeadLetterJson;
import dev.outbox.relay.engine.Database;
import dev.outbox.sdk.deadletter.DeadLetter;
import dev.outbox.sdk.deadletter.DeadLetters;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dead-letters list|show|replay|discard}: the dead_letters table, one message at a time. */
@Command(
        name = "dead-letters",
        mixinStandardHelpOptions = true,
        description = "Inspect, replay or discard captured dead letters.",
        subcommands = {
            DeadLettersCommand.List.class,
            DeadLettersCommand.Show.class,
            DeadLettersCommand.Replay.class,
            DeadLettersCommand.Discard.class
        })
final class DeadLettersCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List dead letters, oldest first.")
    static final class List implements Callable<Integer> {
        @Option(names = "--queue", description = "only those that died in this queue")
        String queue;

        @Option(
                names = "--reason",
                description = "rejected, expired, maxlen, delivery_limit, retries_exhausted, unroutable, relay_error")
        String reason;

        @Option(names = "--status", description = "new, replayed or discarded")
        String status;

        @Option(names = "--limit", defaultValue = "100")
        int limit;

        @Override
        public Integer call() throws Exception {
            RelayConfig config = RelayConfig.fromEnv();
            try (DeadLetters dl = new DeadLetters(new Database(config).dataSource(), null)) {
                java.util.List<DeadLetter> rows = dl.list(new DeadLetters.Filter(queue, reason, status, limit));
                System.out.printf(
                        "%-8s %-10s %-18s %-24s %-32s %-38s %s%n",
                        "ID", "STATUS", "REASON", "QUEUE", "ROUTING KEY", "MESSAGE ID", "LAST ERROR");
                for (DeadLetter d : rows) {
                    String error = d.lastError() == null ? "" : d.lastError().replace('\n', ' ');
                    System.out.printf(
                            "%-8d %-10s %-18s %-24s %-32s %-38s %s%n",
                            d.id(),
                            d.status(),
                            d.reason(),
                            d.queue(),
                            d.routingKey(),
                            d.messageId(),
                            error.length() > 80 ? error.substring(0, 77) + "..." : error);
                }
                System.out.println(rows.size() + " dead letters");
            }
            return 0;
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Print one dead letter as JSON, body included.")
    static final class Show implements Callable<Integer> {
        @Parameters(index = "0", description = "dead letter id")
        long id;

        @Override
        public Integer call() throws Exception {
            RelayConfig config = RelayConfig.fromEnv();
            try (DeadLetters dl = new DeadLetters(new Database(config).dataSource(), null)) {
                var found = dl.show(id);
                if (found.isEmpty()) {
                    System.err.println("no dead letter with id " + id);
                    return 1;
                }
                ObjectNode out = DeadLetterJson.full(found.get());
                System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out));
            }
            return 0;
        }
    }

    @Command(
            name = "replay",
            mixinStandardHelpOptions = true,
            description =
                    "Publish new dead letters again (to the queue they died in; unroutable and relay_error ones to their"
                            + " exchange) and mark them replayed. Rows already replayed or discarded are refused, and said so.")
    static final class Replay implements Callable<Integer> {
        @Parameters(arity = "0..*", description = "dead letter ids")
        java.util.List<Long> ids;

        @Option(names = "--queue", description = "replay every new dead letter of this queue")
        String queue;

        @Option(
                names = "--force",
                description = "also replay dead letters that kept no body (published with an empty body)")
        boolean force;

        @Override
        public Integer call() throws Exception {
            if ((ids == null || ids.isEmpty()) == (queue == null)) {
                System.err.println("give either dead letter ids or --queue Q");
                return 2;
            }
            RelayConfig config = RelayConfig.fromEnv();
            try (DeadLetterActions actions =
                    new DeadLetterActions(new Database(config).dataSource(), config.brokerConfig("cli"))) {
                DeadLetterActions.Request request = queue == null
                        ? new DeadLetterActions.Request(ids, null, force, false)
                        : new DeadLetterActions.Request(
                                null, DeadLetterFilter.parse(java.util.Map.of("queue", queue)), force, false);
                return report("replayed", actions.replay(actor(), request));
            }
        }
    }

    @Command(
            name = "discard",
            mixinStandardHelpOptions = true,
            description = "Mark new dead letters discarded; rows already replayed or discarded are left, and said so.")
    static final class Discard implements Callable<Integer> {
        @Parameters(arity = "1..*", description = "dead letter ids")
        java.util.List<Long> ids;

        @Override
        public Integer call() throws Exception {
            RelayConfig config = RelayConfig.fromEnv();
            try (DeadLetterActions actions = new DeadLetterActions(new Database(config).dataSource(), null)) {
                return report(
                        "discarded", actions.discard(actor(), new DeadLetterActions.Request(ids, null, false, false)));
            }
        }
    }

    /** The CLI's actions go into the console's audit too, as {@code cli:<os user>}. */
    private static DeadLetterActions.Actor actor() {
        return new DeadLetterActions.Actor("cli:" + System.getProperty("user.name", "unknown"), null);
    }

    private static int report(String done, DeadLetterActions.Outcome o) {
        for (String refusal : o.refusals()) {
            System.err.println("not " + done + ": " + refusal);
        }
        if (o.note() != null) {
            System.err.println(o.note());
        }
        System.out.println(done + " " + o.succeeded() + " dead letters"
                + (o.refused() > 0 ? ", " + o.refused() + " refused" : "")
                + (o.auditId() == null ? "" : " (audit entry " + o.auditId() + ")"));
        return o.refused() > 0 ? 1 : 0;
    }
}
