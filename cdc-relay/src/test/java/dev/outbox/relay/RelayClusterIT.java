package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.RetryException;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriptionOptions;
import dev.outbox.testing.FaultScale;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay and the SDK on a three-node RabbitMQ cluster (scripts/rabbitmq-cluster) with quorum
 * queues, while nodes are stopped, started and killed under load: nothing lost, nothing
 * unexpected, no routing key out of order. Runs in the {@code cluster} profile (.ci/run, at a
 * reduced size); figures go to target/cluster-figures.md.
 */
class RelayClusterIT {

    static final Path FIGURES = Path.of("target", "cluster-figures.md");

    @BeforeAll
    static void cluster() throws Exception {
        RabbitCluster.ensureRunning();
    }

    /** (key, seq) pairs as a subscriber handled them, in handling order, duplicates included. */
    record Handled(String key, int seq) {}

    @Test
    void theRelayPublishesThroughNodeStopsAndAKillWithoutLossOrReordering() throws Exception {
        String vhost = RabbitCluster.newVhost("relay-faults");
        try (TestDatabase db = PostgresFixture.get().createDatabase("relay_cluster")) {
            Migrations.apply(db.dataSource());
            Map<String, String> env = RabbitCluster.relayEnv(db, vhost);
            List<Handled> handled = new CopyOnWriteArrayList<>();
            Writer writer = new Writer(db, "cluster.order.updated", 10, FaultScale.pick(100, 300));
            Map<String, Long> resumedAfterMillis = new LinkedHashMap<>();
            try (Broker consumerBroker = Broker.connect(
                            BrokerConfig.of(RabbitCluster.uri(3, vhost)).withAddresses(RabbitCluster.addresses(3)));
                    Subscriber subscriber = new Subscriber(
                            consumerBroker, "cluster.#", SubscriptionOptions.queue("cluster_orders"), "cluster");
                    RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                subscriber.start((headers, body) -> handled.add(new Handled(
                        String.valueOf(headers.get("aggregate-id")),
                        body.get("seq").asInt())));
                writer.start();
                await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() > 50);

                resumedAfterMillis.put("stop the relay's node (1)", fault(relay, () -> RabbitCluster.stopNode(1)));
                RabbitCluster.startNode(1);
                int leader = RabbitCluster.leaderOf(vhost, "cluster_orders");
                resumedAfterMillis.put(
                        "stop the queue's leader (" + leader + ")", fault(relay, () -> RabbitCluster.stopNode(leader)));
                RabbitCluster.startNode(leader);
                int victim = leader == 2 ? 3 : 2;
                resumedAfterMillis.put("SIGKILL node " + victim, fault(relay, () -> RabbitCluster.killNode(victim)));
                RabbitCluster.startNode(victim);

                writer.stop();
                int written = writer.written();
                await("every written event handled")
                        .atMost(Duration.ofSeconds(120))
                        .until(() -> distinct(handled).size() >= written);
                Outcome outcome = Outcome.of(writer.sent(), handled);
                report("Relay and consumer through node faults", written, outcome, resumedAfterMillis);
                assertThat(outcome.lost()).as("lost").isZero();
                assertThat(outcome.unexpected()).as("unexpected").isZero();
                assertThat(outcome.orderViolations())
                        .as("order violations per routing key")
                        .isZero();
            } finally {
                writer.stop();
            }
        } finally {
            RabbitCluster.deleteVhost(vhost);
        }
    }

    @Test
    void aSubscriberMovesToAnotherNodeAndRetriesAndDeadLettersKeepWorking() throws Exception {
        String vhost = RabbitCluster.newVhost("consumer-faults");
        try (TestDatabase db = PostgresFixture.get().createDatabase("consumer_cluster")) {
            Migrations.apply(db.dataSource());
            Map<String, String> env = RabbitCluster.relayEnv(db, vhost);
            env.put("RELAY_CAPTURE_DEAD_LETTERS", "true");
            Set<Integer> handled = ConcurrentHashMap.newKeySet();
            Set<Integer> retried = ConcurrentHashMap.newKeySet();
            Outbox outbox = new Outbox();
            try (Broker consumerBroker = Broker.connect(
                            BrokerConfig.of(RabbitCluster.uri(2, vhost)).withAddresses(RabbitCluster.addresses(2)));
                    Subscriber subscriber = new Subscriber(
                            consumerBroker,
                            "moving.#",
                            SubscriptionOptions.queue("moving_orders").backoff(Duration.ofMillis(300), 1.0),
                            "moving");
                    RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                subscriber.start((headers, body) -> {
                    int n = body.get("n").asInt();
                    if (n % 10 == 9) {
                        throw new IllegalStateException("poison " + n);
                    }
                    if (n % 10 == 5 && retried.add(n)) {
                        throw new RetryException("not yet");
                    }
                    handled.add(n);
                });
                int total = 60;
                for (int n = 0; n < total; n++) {
                    int value = n;
                    outbox.inTransaction(
                            db.dataSource(), c -> outbox.append(c, "moving.created", "{\"n\": " + value + "}"));
                    if (n == total / 2) {
                        RabbitCluster.stopNode(2); // the subscriber's node
                    }
                }
                await("handled on another node")
                        .atMost(Duration.ofSeconds(90))
                        .until(() -> handled.size() == total - total / 10);
                try {
                    await("poison messages captured as dead letters")
                            .atMost(Duration.ofSeconds(60))
                            .until(() -> db.queryLong("SELECT count(DISTINCT message_id) FROM dead_letters"
                                            + " WHERE reason = 'rejected' AND queue = 'moving_orders'")
                                    == total / 10);
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    throw new AssertionError(
                            "dead_letters holds: " + rows(db) + "\nqueues: "
                                    + RabbitCluster.ctl(
                                            "list_queues",
                                            "-p",
                                            vhost,
                                            "name",
                                            "leader",
                                            "messages_ready",
                                            "messages_unacknowledged",
                                            "consumers")
                                    + "\nconsumers: " + RabbitCluster.ctl("list_consumers", "-p", vhost),
                            e);
                }
                assertThat(retried).as("retried before being handled").hasSize(total / 10);
                assertThat(handled).containsAll(retried);
            } finally {
                RabbitCluster.startNode(2);
            }
        } finally {
            RabbitCluster.deleteVhost(vhost);
        }
    }

    private static String rows(TestDatabase db) throws Exception {
        StringBuilder out = new StringBuilder();
        try (var c = db.connect();
                var st = c.createStatement();
                var rs =
                        st.executeQuery("SELECT reason, queue, message_id, last_error FROM dead_letters ORDER BY id")) {
            while (rs.next()) {
                out.append("\n  ")
                        .append(rs.getString(1))
                        .append(' ')
                        .append(rs.getString(2))
                        .append(' ')
                        .append(rs.getString(3))
                        .append(' ')
                        .append(rs.getString(4));
            }
        }
        return out.toString();
    }

    /**
     * Runs {@code fault}, then returns how long from its start until the relay confirmed a
     * message again (its published count moved past where the fault left it).
     */
    private static long fault(RelayHarness relay, ThrowingRunnable fault) throws Exception {
        long started = System.nanoTime();
        fault.run();
        long afterFault = relay.relay().metrics().publishedTotal();
        await("publishing resumes")
                .atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> relay.relay().metrics().publishedTotal() > afterFault);
        return (System.nanoTime() - started) / 1_000_000;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static Set<Handled> distinct(List<Handled> handled) {
        return Set.copyOf(handled);
    }

    /** Lost: written, never handled; unexpected: handled, never written; a violation: a key's first handlings out of order. */
    record Outcome(int lost, int unexpected, int orderViolations, int duplicates) {
        static Outcome of(Set<Handled> sent, List<Handled> handled) {
            Set<Handled> seen = new java.util.HashSet<>();
            Map<String, Integer> lastFirst = new java.util.HashMap<>();
            int violations = 0;
            int duplicates = 0;
            for (Handled h : handled) {
                if (!seen.add(h)) {
                    duplicates++;
                    continue;
                }
                Integer previous = lastFirst.put(h.key(), h.seq());
                if (previous != null && previous > h.seq()) {
                    violations++;
                }
            }
            int lost = 0;
            for (Handled s : sent) {
                if (!seen.contains(s)) {
                    lost++;
                }
            }
            int unexpected = 0;
            for (Handled h : seen) {
                if (!sent.contains(h)) {
                    unexpected++;
                }
            }
            return new Outcome(lost, unexpected, violations, duplicates);
        }
    }

    static void report(String title, int written, Outcome o, Map<String, Long> resumedAfterMillis) throws Exception {
        StringBuilder md = new StringBuilder("\n### " + title + "\n\n");
        md.append("written ")
                .append(written)
                .append(", lost ")
                .append(o.lost())
                .append(", unexpected ")
                .append(o.unexpected())
                .append(", order violations ")
                .append(o.orderViolations())
                .append(", duplicates ")
                .append(o.duplicates())
                .append("\n\n");
        resumedAfterMillis.forEach((fault, ms) -> md.append("- ")
                .append(fault)
                .append(": publishing resumed after ")
                .append(ms)
                .append(" ms\n"));
        System.out.println(md);
        Files.createDirectories(FIGURES.getParent());
        Files.writeString(FIGURES, md, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Writes events for {@code keys} routing keys' aggregates in sequence, at a steady rate, until stopped. */
    static final class Writer {
        private final TestDatabase db;
        private final String routingKey;
        private final int keys;
        private final int perSecond;
        private final AtomicBoolean running = new AtomicBoolean();
        private final AtomicInteger written = new AtomicInteger();
        private final Set<Handled> sent = ConcurrentHashMap.newKeySet();
        private Thread thread;

        Writer(TestDatabase db, String routingKey, int keys, int perSecond) {
            this.db = db;
            this.routingKey = routingKey;
            this.keys = keys;
            this.perSecond = perSecond;
        }

        void start() {
            running.set(true);
            thread = new Thread(
                    () -> {
                        Outbox outbox = new Outbox();
                        int[] next = new int[keys];
                        long interval = 1_000_000_000L / perSecond;
                        long due = System.nanoTime();
                        int i = 0;
                        while (running.get()) {
                            int k = i++ % keys;
                            String key = "k" + k;
                            int seq = next[k]++;
                            outbox.inTransaction(
                                    db.dataSource(),
                                    c -> outbox.append(
                                            c,
                                            OutboxEvent.builder(routingKey)
                                                    .payload("{\"seq\": " + seq + "}")
                                                    .aggregate("order", key)
                                                    .build()));
                            sent.add(new Handled(key, seq));
                            written.incrementAndGet();
                            due += interval;
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                java.util.concurrent.locks.LockSupport.parkNanos(wait);
                            }
                        }
                    },
                    "cluster-writer");
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            if (thread != null) {
                thread.join(30_000);
            }
        }

        int written() {
            return written.get();
        }

        Set<Handled> sent() {
            return sent;
        }
    }
}
