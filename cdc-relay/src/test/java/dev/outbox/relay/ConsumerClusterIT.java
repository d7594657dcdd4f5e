package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Publisher;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriptionOptions;
import dev.outbox.testing.FaultScale;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Consumers in processes of their own on the three-node cluster: the quorum queue's delivery
 * limit ends a message that kills every consumer in dead_letters, and three processes on a
 * partitioned subscription, one killed with SIGKILL under load, lose nothing and never handle a
 * key's message before an earlier one. Runs in the {@code cluster} profile.
 */
class ConsumerClusterIT {

    @BeforeAll
    static void cluster() throws Exception {
        RabbitCluster.ensureRunning();
    }

    @Test
    void aMessageThatKillsEveryConsumerEndsInDeadLettersByTheDeliveryLimit() throws Exception {
        String vhost = RabbitCluster.newVhost("delivery-limit");
        try (TestDatabase db = PostgresFixture.get().createDatabase("delivery_limit")) {
            Migrations.apply(db.dataSource());
            Map<String, String> env = RabbitCluster.relayEnv(db, vhost);
            env.put("RELAY_CAPTURE_DEAD_LETTERS", "true");
            int limit = 2;
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                List<String> consumer = List.of(
                        "die-on-delivery",
                        RabbitCluster.uri(2, vhost),
                        String.join(",", RabbitCluster.addresses(2)),
                        "lethal_orders",
                        "lethal.#",
                        Integer.toString(limit));
                int deaths = 0;
                try (Child first = Child.start("lethal-0", consumer)) {
                    first.awaitReady();
                    Outbox outbox = new Outbox();
                    outbox.inTransaction(
                            db.dataSource(), c -> outbox.append(c, "lethal.created", "{\"poison\": true}"));
                    deaths += first.awaitExit() == 3 ? 1 : 0;
                }
                // Each new consumer is handed the message again, and dies of it, until RabbitMQ gives up on it.
                for (int i = 1; i <= limit + 2 && db.queryLong("SELECT count(*) FROM dead_letters") == 0; i++) {
                    try (Child next = Child.start("lethal-" + i, consumer)) {
                        next.awaitReadyOrDelivered(); // the message may come, and kill it, before it says ready
                        long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                        while (next.isAlive()
                                && System.nanoTime() < until
                                && db.queryLong("SELECT count(*) FROM dead_letters") == 0) {
                            Thread.sleep(50);
                        }
                        if (!next.isAlive()) {
                            deaths++;
                        }
                    }
                }
                await("dead-lettered by the delivery limit")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> db.queryLong("SELECT count(*) FROM dead_letters WHERE reason = 'delivery_limit'"
                                        + " AND queue = 'lethal_orders'")
                                == 1);
                assertThat(deaths).as("consumers killed by the message").isEqualTo(limit + 1);
            }
        } finally {
            RabbitCluster.deleteVhost(vhost);
        }
    }

    @Test
    void deadLetteringIsAtLeastOnceAMessageWaitsUntilDeadLettersTakesIt() throws Exception {
        String vhost = RabbitCluster.newVhost("at-least-once");
        try (Broker broker = Broker.connect(
                BrokerConfig.of(RabbitCluster.uri(1, vhost)).withAddresses(RabbitCluster.addresses(1)))) {
            // The queue as the SDK declares it: quorum, at-least-once dead-lettering, a delivery limit of 1.
            try (Subscriber declare = new Subscriber(
                    broker,
                    "bounce.#",
                    SubscriptionOptions.queue("bounce_orders").deliveryLimit(1),
                    "bounce")) {
                declare.start((headers, body) -> {});
            }
            // DLX routes nowhere, as when dead_letters was deleted (or its node is gone).
            try (com.rabbitmq.client.Channel admin = broker.createChannel()) {
                admin.queueDelete(dev.outbox.protocol.Topology.DEAD_LETTERS_QUEUE);
            }
            try (Publisher publisher = new Publisher(broker)) {
                for (int i = 0; i < 3; i++) {
                    publisher.send(dev.outbox.protocol.OutboxEvent.of("bounce.created", "{\"n\": " + i + "}"));
                }
            }
            // A consumer that gives every message back: past the limit RabbitMQ dead-letters them.
            com.rabbitmq.client.Channel bouncer = broker.createChannel();
            bouncer.basicConsume("bounce_orders", false, new com.rabbitmq.client.DefaultConsumer(bouncer) {
                @Override
                public void handleDelivery(
                        String tag,
                        com.rabbitmq.client.Envelope envelope,
                        com.rabbitmq.client.AMQP.BasicProperties props,
                        byte[] body)
                        throws IOException {
                    getChannel().basicNack(envelope.getDeliveryTag(), false, true);
                }
            });
            await("past the delivery limit: none ready in the work queue, all three kept there, not dropped")
                    .during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> queueDepths(vhost, "bounce_orders").equals(List.of(3L, 0L)));
            try (com.rabbitmq.client.Channel admin = broker.createChannel()) {
                dev.outbox.protocol.Topology.declareDeadLetters(admin);
            }
            await("dead-lettered once dead_letters is there to take them")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> queueDepths(vhost, "dead_letters").equals(List.of(3L, 3L))
                            && queueDepths(vhost, "bounce_orders").equals(List.of(0L, 0L)));
            bouncer.abort();
        } finally {
            RabbitCluster.deleteVhost(vhost);
        }
    }

    /** A queue's messages (ready, unacknowledged and held for dead-lettering) and ready ones. */
    private static List<Long> queueDepths(String vhost, String queue) throws Exception {
        for (String line : RabbitCluster.ctl("list_queues", "-p", vhost, "name", "messages", "messages_ready")
                .split("\n")) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 3 && parts[0].equals(queue)) {
                return List.of(Long.parseLong(parts[1]), Long.parseLong(parts[2]));
            }
        }
        return List.of();
    }

    @Test
    void threePartitionedConsumersOneKilledUnderLoadLoseNothingAndKeepEachKeysOrder() throws Exception {
        String vhost = RabbitCluster.newVhost("partitioned");
        try (TestDatabase db = PostgresFixture.get().createDatabase("partitioned_cluster")) {
            Migrations.apply(db.dataSource());
            db.execute("CREATE TABLE handled (id bigserial PRIMARY KEY, key text, seq int, consumer text)");
            Map<String, String> env = RabbitCluster.relayEnv(db, vhost);
            String jdbc = db.url() + (db.url().contains("?") ? "&" : "?") + "user=" + db.user()
                    + (db.password() == null || db.password().isEmpty() ? "" : "&password=" + db.password());
            List<Child> consumers = new ArrayList<>();
            RelayClusterIT.Writer writer =
                    new RelayClusterIT.Writer(db, "parted.order.updated", 20, FaultScale.pick(100, 300));
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                for (int node = 1; node <= 3; node++) {
                    Child c = Child.start(
                            "partitioned-" + node,
                            List.of(
                                    "partitioned",
                                    RabbitCluster.uri(node, vhost),
                                    String.join(",", RabbitCluster.addresses(node)),
                                    "parted_orders",
                                    "parted.#",
                                    "3",
                                    jdbc,
                                    "consumer-" + node));
                    consumers.add(c);
                    c.awaitReady(); // one after another: the first is active on every partition
                }
                writer.start();
                await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong("SELECT count(*) FROM handled") > 200);
                long killedAt = db.queryLong("SELECT coalesce(max(id), 0) FROM handled");
                consumers.get(0).kill(); // SIGKILL, mid-stream, while the writer goes on
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> db.queryLong("SELECT count(*) FROM handled WHERE id > " + killedAt
                                        + " AND consumer <> 'consumer-1'")
                                > 100);
                writer.stop();
                int written = writer.written();
                await("every written event handled")
                        .atMost(Duration.ofSeconds(120))
                        .until(() -> db.queryLong("SELECT count(DISTINCT (key, seq)) FROM handled") >= written);

                List<RelayClusterIT.Handled> handled = new ArrayList<>();
                Map<String, Long> byConsumer = new LinkedHashMap<>();
                try (Connection c = db.connect();
                        Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("SELECT key, seq, consumer FROM handled ORDER BY id")) {
                    while (rs.next()) {
                        handled.add(new RelayClusterIT.Handled(rs.getString(1), rs.getInt(2)));
                        byConsumer.merge(rs.getString(3), 1L, Long::sum);
                    }
                }
                RelayClusterIT.Outcome outcome = RelayClusterIT.Outcome.of(writer.sent(), handled);
                RelayClusterIT.report(
                        "Three partitioned consumers, the active one killed (SIGKILL)", written, outcome, Map.of());
                System.out.println("handled per consumer: " + byConsumer);
                assertThat(outcome.lost()).as("lost").isZero();
                assertThat(outcome.unexpected()).as("unexpected").isZero();
                assertThat(outcome.orderViolations())
                        .as("a key's message handled before an earlier one")
                        .isZero();
                assertThat(byConsumer.keySet()).as("the partitions moved on").hasSizeGreaterThan(1);
            } finally {
                writer.stop();
                consumers.forEach(Child::close);
            }
        } finally {
            RabbitCluster.deleteVhost(vhost);
        }
    }

    /** ClusterConsumerMain in a JVM of its own, its output in target/cluster-consumers. */
    static final class Child implements AutoCloseable {
        private final Process process;
        private final Path log;

        private Child(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        static Child start(String name, List<String> args) throws IOException {
            Path log = Files.createDirectories(Path.of("target", "cluster-consumers"))
                    .resolve(name + ".log");
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx128m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    ClusterConsumerMain.class.getName()));
            command.addAll(args);
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            return new Child(p, log);
        }

        void awaitReady() {
            await(log.getFileName() + " ready").atMost(Duration.ofSeconds(60)).until(() -> {
                if (!process.isAlive()) {
                    throw new AssertionError(log + " exited early: " + Files.readString(log));
                }
                return Files.readString(log).contains("ready");
            });
        }

        void awaitReadyOrDelivered() {
            await(log.getFileName() + " ready or delivered")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> {
                        String out = Files.readString(log);
                        if (!process.isAlive() && !out.contains("delivered")) {
                            throw new AssertionError(log + " exited without a delivery: " + out);
                        }
                        return out.contains("ready") || out.contains("delivered");
                    });
        }

        int awaitExit() throws InterruptedException {
            if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new AssertionError(log + " did not exit");
            }
            return process.exitValue();
        }

        boolean isAlive() {
            return process.isAlive();
        }

        void kill() throws InterruptedException {
            process.destroyForcibly(); // SIGKILL
            process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
