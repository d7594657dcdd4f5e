package dev.outbox.relay.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.engine.Database;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.deadletter.DeadLetter;
import dev.outbox.sdk.deadletter.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
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
                DeadLetter d = found.get();
                ObjectNode out = JSON.createObjectNode();
                out.put("id", d.id())
                        .put("status", d.status())
                        .put("reason", d.reason())
                        .put("queue", d.queue())
                        .put("exchange", d.exchange())
                        .put("routing_key", d.routingKey())
                        .put("message_id", d.messageId())
                        .put("retry_count", d.retryCount())
                        .put("last_error", d.lastError())
                        .put("dead_lettered_at", String.valueOf(d.deadLetteredAt()))
                        .put("captured_at", String.valueOf(d.capturedAt()))
                        .put(
                                "replayed_at",
                                d.replayedAt() == null ? null : d.replayedAt().toString());
                out.set("properties", d.properties());
                out.set("headers", d.headers());
                if (d.bodyJson() != null) {
                    out.set("body", d.bodyJson());
                } else {
                    out.put("body_base64", Base64.getEncoder().encodeToString(d.body()));
                    out.put("body_text", new String(d.body(), StandardCharsets.UTF_8));
                }
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
            try (Broker broker = Broker.connect(config.brokerConfig("cli"));
                    DeadLetters dl = new DeadLetters(new Database(config).dataSource(), broker)) {
                java.util.List<Long> todo = ids;
                if (queue != null) {
                    todo = new java.util.ArrayList<>();
                    for (DeadLetter d : dl.list(new DeadLetters.Filter(queue, null, "new", Integer.MAX_VALUE))) {
                        todo.add(d.id());
                    }
                }
                int replayed = 0;
                int refused = 0;
                for (long id : todo) {
                    try {
                        dl.replay(id, force);
                        replayed++;
                    } catch (IllegalArgumentException | IllegalStateException e) {
                        System.err.println("not replayed: " + e.getMessage());
                        refused++;
                    }
                }
                System.out.println(
                        "replayed " + replayed + " dead letters" + (refused > 0 ? ", " + refused + " refused" : ""));
                return refused > 0 ? 1 : 0;
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
            try (DeadLetters dl = new DeadLetters(new Database(config).dataSource(), null)) {
                int notNew = 0;
                for (long id : ids) {
                    var found = dl.show(id);
                    if (found.isEmpty()) {
                        System.err.println("not discarded: no dead letter with id " + id);
                        notNew++;
                    } else if (!"new".equals(found.get().status())) {
                        System.err.println("not discarded: dead letter " + id + " is "
                                + found.get().status() + "; only new ones are discarded");
                        notNew++;
                    }
                }
                System.out.println("discarded " + dl.discard(ids) + " dead letters");
                return notNew > 0 ? 1 : 0;
            }
        }
    }
}
