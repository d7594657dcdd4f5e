package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.outbox.testing.FaultScale;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Consumers that die with messages in flight, and a storm of retries beside healthy traffic. */
class ConsumerFaultsIT {

    private static SdkEnvironment env;

    @BeforeAll
    static void setUp() throws Exception {
        env = new SdkEnvironment("consumer_faults");
        env.db.execute("CREATE TABLE processed (message_id text NOT NULL)");
    }

    @AfterAll
    static void tearDown() {
        if (env != null) {
            env.close();
        }
    }

    private static void publish(String routingKey, List<String> ids, java.util.function.Function<String, String> body)
            throws Exception {
        try (Connection c = env.connectionFactory().newConnection("fault-publisher");
                Channel ch = c.createChannel()) {
            ch.confirmSelect();
            for (String id : ids) {
                ch.basicPublish(
                        routingKey.substring(0, routingKey.indexOf('.')),
                        routingKey,
                        new AMQP.BasicProperties.Builder()
                                .messageId(id)
                                .deliveryMode(2)
                                .build(),
                        body.apply(id).getBytes(StandardCharsets.UTF_8));
            }
            ch.waitForConfirmsOrDie(60_000);
        }
    }

    @Test
    void aConnectionLostWhileAcknowledgingRedeliversTheMessageAndDeadLettersNothing() throws Exception {
        String appId = "ackfault-" + System.nanoTime();
        List<String> calls = new CopyOnWriteArrayList<>();
        try (Broker broker = env.newBroker(appId);
                Subscriber s =
                        new Subscriber(broker, "ackfault.#", SubscriptionOptions.queue("ackfault"), "ackfault")) {
            s.start((headers, body) -> {
                calls.add(String.valueOf(headers.get("message-id")));
                if (calls.size() == 1) {
                    // The broker drops the consumer's connection after the handler succeeded, before the ack.
                    dev.outbox.testing.BrokerFaults.closeConnections(appId);
                }
            });
            new Publisher(env.broker).send(dev.outbox.protocol.OutboxEvent.of("ackfault.created", "{}"));
            await().atMost(Duration.ofSeconds(60)).until(() -> calls.size() >= 2);
            assertThat(calls.get(1)).as("the same message, redelivered").isEqualTo(calls.get(0));
            await("no dead letter for a lost ack, which is not the message's fault")
                    .during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> env.deadLetters("queue = 'ackfault'") == 0);
        }
    }

    @Test
    void consumersKilledWithMessagesInFlightStillProcessEveryMessageExactlyOnceThroughTheInbox() throws Exception {
        int messages = FaultScale.pick(2000, 10_000);
        int kills = 5;
        SubscriptionOptions options =
                SubscriptionOptions.queue("killed").prefetch(50).closeTimeout(Duration.ofSeconds(2));
        TransactionalHandler handler = (h, body, c) -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO processed VALUES (?)")) {
                ps.setString(1, (String) h.get("message-id"));
                ps.executeUpdate();
            }
        };
        Subscriber declare = new Subscriber(env.broker, "killed.x", options, "killed-consumer");
        declare.start((h, b) -> {});
        declare.close();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < messages; i++) {
            ids.add("k-" + i);
        }
        publish("killed.x", ids, id -> "{\"id\":\"" + id + "\"}");

        for (int k = 0; k < kills; k++) {
            Broker doomed = env.newBroker("doomed-" + k);
            Subscriber s = new Subscriber(doomed, "killed.x", options, "killed-consumer");
            s.startTransactional(env.db.dataSource(), handler);
            long before = env.db.queryLong("SELECT count(*) FROM inbox");
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> env.db.queryLong("SELECT count(*) FROM inbox") > before + messages / 10);
            doomed.connection().abort(); // dies with up to 50 unacked messages in flight
            s.close();
        }
        try (Subscriber s = new Subscriber(env.broker, "killed.x", options, "killed-consumer")) {
            s.startTransactional(env.db.dataSource(), handler);
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> env.db.queryLong("SELECT count(*) FROM processed") >= messages);
            TimeUnit.MILLISECONDS.sleep(500); // nothing more may arrive
        }
        long rows = env.db.queryLong("SELECT count(*) FROM processed");
        long distinct = env.db.queryLong("SELECT count(DISTINCT message_id) FROM processed");
        System.out.println("scenario consumer-kills: messages=" + messages + " kills=" + kills + " handler rows=" + rows
                + " distinct=" + distinct + " lost=" + (messages - distinct) + " duplicates=" + (rows - distinct));
        assertThat(distinct).isEqualTo(messages);
        assertThat(rows).as("exactly one row per message").isEqualTo(messages);
    }

    @Test
    void aRetryStormDeliversEachFailingMessageSixTimesWhileHealthyOnesKeepFlowing() throws Exception {
        int failing = FaultScale.pick(200, 1000);
        int healthy = failing;
        Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();
        List<Long> healthyLatencies = new CopyOnWriteArrayList<>();
        SubscriptionOptions options =
                SubscriptionOptions.queue("storm").prefetch(50).backoff(Duration.ofMillis(100), 2.0);
        try (Subscriber s = new Subscriber(env.broker, "storm.*", options, "storm")) {
            s.start((h, body) -> {
                String id = (String) h.get("message-id");
                if (body.path("fail").asBoolean()) {
                    deliveries.computeIfAbsent(id, x -> new AtomicInteger()).incrementAndGet();
                    throw new RetryException("always failing");
                }
                healthyLatencies.add(System.nanoTime() - body.get("sent").asLong());
            });
            List<String> failingIds = new ArrayList<>();
            for (int i = 0; i < failing; i++) {
                failingIds.add("storm-fail-" + i);
            }
            publish("storm.fail", failingIds, id -> "{\"fail\":true}");
            List<String> healthyIds = new ArrayList<>();
            for (int i = 0; i < healthy; i++) {
                healthyIds.add("storm-ok-" + i);
            }
            publish("storm.ok", healthyIds, id -> "{\"sent\":" + System.nanoTime() + "}");
            await().atMost(Duration.ofSeconds(180))
                    .until(() -> env.deadLetters("queue = 'storm' AND reason = 'retries_exhausted'") == failing);
            await().atMost(Duration.ofSeconds(30)).until(() -> healthyLatencies.size() == healthy);
        }
        long exactlySix = deliveries.values().stream().filter(c -> c.get() == 6).count();
        long[] lat =
                healthyLatencies.stream().mapToLong(Long::longValue).sorted().toArray();
        double p99 = lat[(int) Math.ceil(0.99 * lat.length) - 1] / 1e6;
        System.out.println("scenario retry-storm: failing=" + failing + " delivered exactly 6 times=" + exactlySix
                + " dead-lettered=" + env.deadLetters("queue = 'storm' AND reason = 'retries_exhausted'")
                + " healthy=" + healthy + " healthy p99=" + String.format("%.1f", p99) + " ms");
        assertThat(deliveries).hasSize(failing);
        assertThat(exactlySix).isEqualTo(failing);
    }
}
