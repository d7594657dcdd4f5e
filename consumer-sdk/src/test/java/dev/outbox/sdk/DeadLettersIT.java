package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import dev.outbox.protocol.Headers;
import dev.outbox.protocol.Topology;
import dev.outbox.sdk.deadletter.DeadLetter;
import dev.outbox.sdk.deadletter.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DeadLettersIT {

    private static SdkEnvironment env;
    private static Publisher publisher;
    private static DeadLetters deadLetters;

    @BeforeAll
    static void setUp() throws Exception {
        env = new SdkEnvironment("dead_letters");
        publisher = new Publisher(env.broker);
        deadLetters = new DeadLetters(env.db.dataSource(), env.broker);
    }

    @AfterAll
    static void tearDown() {
        if (deadLetters != null) {
            deadLetters.close();
        }
        if (publisher != null) {
            publisher.close();
        }
        if (env != null) {
            env.close();
        }
    }

    @Test
    void deadLettersPostgresCannotHoldAreStoredEscapedAndTheQueueBehindThemFlows() throws Exception {
        // The capture retried every SQLException with backoff: a NUL character (which text and jsonb refuse) or a time
        // out of PostgreSQL's range was refused on every retry, and held the dead_letters queue behind it for good.
        byte[] nulJson = "{\"a\":\"\\u0000\"}".getBytes(StandardCharsets.UTF_8);
        env.publishRaw("DLX", "poison.nul", raw("nul-body", Map.of()), nulJson);
        env.publishRaw(
                "DLX",
                "poison.nul",
                raw("nul-header", Map.of("note", "a\u0000b")),
                "{}".getBytes(StandardCharsets.UTF_8));
        env.publishRaw("DLX", "poison.nul", raw("nul\u0000id", Map.of()), "{}".getBytes(StandardCharsets.UTF_8));
        env.publishRaw(
                "DLX",
                "poison.nul",
                raw(
                        "far-future",
                        Map.of(
                                "x-death",
                                java.util.List.of(Map.of(
                                        "reason",
                                        "expired",
                                        "queue",
                                        "q",
                                        "count",
                                        1L,
                                        "time",
                                        java.util.Date.from(java.time.Instant.parse("+300000-01-01T00:00:00Z")))))),
                "{}".getBytes(StandardCharsets.UTF_8));
        env.publishRaw("DLX", "poison.nul", raw("after-poison", Map.of()), "{}".getBytes(StandardCharsets.UTF_8));

        await().atMost(Duration.ofSeconds(20))
                .until(() -> env.deadLetters("message_id = 'after-poison'") == 1
                        && env.deadLetters(
                                        "message_id IN ('nul-body', 'nul-header', 'far-future') OR message_id LIKE 'nul%id'")
                                == 4);
        assertThat(env.deadLetters("message_id = 'nul-body' AND body = convert_to('{\"a\":\"\\u0000\"}', 'UTF8')"
                        + " AND body_json IS NULL AND last_error LIKE 'stored escaped: PostgreSQL refused it%'"))
                .isEqualTo(1);
        assertThat(env.deadLetters("message_id = 'nul-header' AND position('u0000' in headers->>'note') > 0"))
                .isEqualTo(1);
        assertThat(env.deadLetters("message_id LIKE 'nul%id' AND last_error LIKE '%22021%'"))
                .isEqualTo(1);
        assertThat(env.deadLetters("message_id = 'far-future' AND last_error LIKE '%22008%'"))
                .isEqualTo(1);
        assertThat(env.deadLetters("message_id = 'after-poison' AND last_error IS NULL"))
                .isEqualTo(1);
    }

    @Test
    void theCaptureStartsAgainWhenTheBrokerCancelsItsConsumer() throws Exception {
        // Deleting dead_letters cancelled the capture's consumer, which never came back: every later dead letter
        // reached DLX with no queue bound, and was dropped.
        try (com.rabbitmq.client.Connection c = env.connectionFactory().newConnection("deleter")) {
            try (com.rabbitmq.client.Channel ch = c.createChannel()) {
                ch.queueDelete(Topology.DEAD_LETTERS_QUEUE);
            }
            // A passive declare of a missing queue closes its channel: a channel per look.
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
                try (com.rabbitmq.client.Channel ch = c.createChannel()) {
                    return ch.consumerCount(Topology.DEAD_LETTERS_QUEUE) == 1;
                }
            });
        }
        env.publishRaw("DLX", "after.delete", raw("after-delete", Map.of()), "{}".getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = 'after-delete'") == 1);
    }

    private long capturedId(String messageId) {
        await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = '" + messageId + "'") == 1);
        return env.db.queryLong("SELECT id FROM dead_letters WHERE message_id = '" + messageId + "'");
    }

    @Test
    void aDeadLetterIsReplayedOnceEvenByTwoReplaysAtOnceAndOnlyWhileNew() throws Exception {
        // replay and discard acted on rows of any status: a replayed row could be replayed again, or by two operators
        // at once.
        try (dev.outbox.testing.Recorder queue = dev.outbox.testing.Recorder.bind(env.connectionFactory(), "once_q")) {
            env.publishRaw(
                    "DLX",
                    "once.x",
                    raw("once-1", Map.of("dead-letter-reason", "rejected", "dead-letter-queue", "once_q")),
                    "{}".getBytes(StandardCharsets.UTF_8));
            long id = capturedId("once-1");
            java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                List<java.util.concurrent.Future<?>> replays = List.of(
                        two.submit(() -> {
                            deadLetters.replay(id);
                            return null;
                        }),
                        two.submit(() -> {
                            deadLetters.replay(id);
                            return null;
                        }));
                int refused = 0;
                for (java.util.concurrent.Future<?> f : replays) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause())
                                .isInstanceOf(IllegalStateException.class)
                                .hasMessageContaining("is replayed");
                        refused++;
                    }
                }
                assertThat(refused).isEqualTo(1);
            } finally {
                two.shutdownNow();
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> queue.deliveries().size() >= 1);
            assertThatThrownBy(() -> deadLetters.replay(id)).hasMessageContaining("only new ones are replayed");
            assertThat(deadLetters.discard(List.of(id)))
                    .as("a replayed row is not discarded")
                    .isZero();
            assertThat(deadLetters.show(id).orElseThrow().status()).isEqualTo("replayed");
            // and it stays at one copy: a second, were one published, would have arrived within this time
            await().during(Duration.ofMillis(500))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> queue.deliveries().size() == 1);
        }
    }

    @Test
    void aDeadLetterThatKeptNoBodyIsReplayedOnlyWhenForced() throws Exception {
        try (dev.outbox.testing.Recorder queue =
                dev.outbox.testing.Recorder.bind(env.connectionFactory(), "nobody_q")) {
            env.publishRaw(
                    "DLX",
                    "nobody.x",
                    raw(
                            "no-body-1",
                            Map.of(
                                    "dead-letter-reason",
                                    "rejected",
                                    "dead-letter-queue",
                                    "nobody_q",
                                    "body-omitted-bytes",
                                    "9999")),
                    new byte[0]);
            long id = capturedId("no-body-1");
            assertThatThrownBy(() -> deadLetters.replay(id))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("kept no body")
                    .hasMessageContaining("--force");
            assertThat(deadLetters.show(id).orElseThrow().status()).isEqualTo("new");
            deadLetters.replay(id, true);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> queue.deliveries().size() == 1);
        }
    }

    private static com.rabbitmq.client.AMQP.BasicProperties raw(String messageId, Map<String, Object> headers) {
        return new com.rabbitmq.client.AMQP.BasicProperties.Builder()
                .messageId(messageId)
                .deliveryMode(2)
                .headers(headers)
                .build();
    }

    @Test
    void replayedDeadLetterReachesAHealthySubscriberOnceAndIsMarkedReplayed() throws Exception {
        AtomicBoolean healthy = new AtomicBoolean(false);
        Map<String, Integer> processed = new ConcurrentHashMap<>();
        try (Subscriber s = new Subscriber(
                env.broker, "replay.x", SubscriptionOptions.queue("replay_q").maxRetries(0), "replayer")) {
            s.start((h, body) -> {
                if (!healthy.get()) {
                    throw new IllegalStateException("downstream is down");
                }
                processed.merge((String) h.get("message-id"), 1, Integer::sum);
                assertThat(h.get("routing-key")).isEqualTo("replay.x");
            });
            String id = publisher.send("{\"n\":7}", "replay.x");
            await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = '" + id + "'") == 1);
            DeadLetter captured = deadLetters
                    .list(new DeadLetters.Filter("replay_q", "rejected", "new", 10))
                    .get(0);
            assertThat(captured.messageId()).isEqualTo(id);
            assertThat(captured.bodyJson().get("n").asInt()).isEqualTo(7);
            assertThat(captured.properties().get("message-id").asText()).isEqualTo(id);

            healthy.set(true);
            deadLetters.replay(captured.id());
            await().atMost(Duration.ofSeconds(15)).until(() -> processed.getOrDefault(id, 0) == 1);
            DeadLetter after = deadLetters.show(captured.id()).orElseThrow();
            assertThat(after.status()).isEqualTo("replayed");
            assertThat(after.replayedAt()).isNotNull();
            Thread.sleep(500);
            assertThat(processed.get(id)).isEqualTo(1);
        }
    }

    @Test
    void unroutableMessagesAreCapturedAndReplayedToTheirExchangeOnceBound() throws Exception {
        String id = publisher.send("{}", "lonely.created"); // no queue bound: alternate exchange -> unrouted
        await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = '" + id + "'") == 1);
        DeadLetter d = deadLetters.list(new DeadLetters.Filter("unrouted", "unroutable", null, 10)).stream()
                .filter(x -> id.equals(x.messageId()))
                .findFirst()
                .orElseThrow();
        assertThat(d.exchange()).isEqualTo("lonely");
        assertThat(d.routingKey()).isEqualTo("lonely.created");

        Map<String, Integer> got = new ConcurrentHashMap<>();
        try (Subscriber s = new Subscriber(env.broker, "lonely.*", SubscriptionOptions.queue("lonely_q"), "lonely")) {
            s.start((h, body) -> got.merge((String) h.get("message-id"), 1, Integer::sum));
            assertThat(deadLetters.replay(List.of(d.id()))).isEqualTo(1);
            await().atMost(Duration.ofSeconds(15)).until(() -> got.getOrDefault(id, 0) == 1);
        }
    }

    @Test
    void aReplayGoesToTheExchangeItsRoutingKeyNamesNeverToOneAStoredHeaderChose() throws Exception {
        // A row stored before the capture stopped believing original-exchange (or written by hand) names another
        // exchange.
        long id = env.db.queryLong(
                "INSERT INTO dead_letters (message_id, exchange, routing_key, queue, reason, retry_count,"
                        + " headers, properties, body, dead_lettered_at, dedupe_key) VALUES ('steer-1', 'victim', 'steer.created',"
                        + " 'unrouted', 'relay_error', 0, '{}', '{}', convert_to('{}', 'UTF8'), now(), 'steer-1') RETURNING id");
        Map<String, Integer> got = new ConcurrentHashMap<>();
        try (Subscriber steer = new Subscriber(env.broker, "steer.*", SubscriptionOptions.queue("steer_q"), "steer");
                Subscriber victim =
                        new Subscriber(env.broker, "victim.#", SubscriptionOptions.queue("victim_q"), "victim")) {
            steer.start((h, body) -> got.merge("steer", 1, Integer::sum));
            victim.start((h, body) -> got.merge("victim", 1, Integer::sum));
            deadLetters.replay(id);
            await().atMost(Duration.ofSeconds(15)).until(() -> got.getOrDefault("steer", 0) == 1);
            assertThat(got).doesNotContainKey("victim");
        }
    }

    @Test
    void aRedeliveredCopyOfTheSameDeadLetterIsStoredOnce() throws Exception {
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                .messageId("dup-1")
                .headers(Map.of(
                        Headers.DEAD_LETTER_ID,
                        "fixed-id",
                        Headers.DEAD_LETTER_REASON,
                        "rejected",
                        Headers.DEAD_LETTER_QUEUE,
                        "somewhere"))
                .build();
        for (int i = 0; i < 3; i++) {
            env.publishRaw(Topology.DLX, "dup.x", props, "{}".getBytes(StandardCharsets.UTF_8));
        }
        String marker = "marker-" + System.nanoTime();
        env.publishRaw(
                Topology.DLX,
                "dup.x",
                new AMQP.BasicProperties.Builder().messageId(marker).build(),
                "{}".getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = '" + marker + "'") == 1);
        assertThat(env.deadLetters("message_id = 'dup-1'")).isEqualTo(1);
    }

    @Test
    void replayOfAQueueSendsEveryNewDeadLetterOfItBack() throws Exception {
        AtomicBoolean healthy = new AtomicBoolean(false);
        Map<String, Integer> processed = new ConcurrentHashMap<>();
        try (Subscriber s = new Subscriber(
                env.broker, "bulk.x", SubscriptionOptions.queue("bulk_q").maxRetries(0), "bulk")) {
            s.start((h, body) -> {
                if (!healthy.get()) {
                    throw new IllegalStateException("not yet");
                }
                processed.merge((String) h.get("message-id"), 1, Integer::sum);
            });
            List<String> ids = List.of(
                    publisher.send("{}", "bulk.x"), publisher.send("{}", "bulk.x"), publisher.send("{}", "bulk.x"));
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> env.deadLetters("queue = 'bulk_q' AND status = 'new'") == 3);
            healthy.set(true);
            assertThat(deadLetters.replayQueue("bulk_q")).isEqualTo(3);
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> processed.keySet().containsAll(ids));
            assertThat(env.deadLetters("queue = 'bulk_q' AND status = 'replayed'"))
                    .isEqualTo(3);
            assertThat(processed.values()).containsOnly(1);
        }
    }

    @Test
    void discardMarksRowsAndReplayOfAnUnknownIdFails() throws Exception {
        String id = publisher.send("{}", "nobody.discard");
        await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = '" + id + "'") == 1);
        long rowId = deadLetters.list(new DeadLetters.Filter("unrouted", null, "new", 1000)).stream()
                .filter(x -> id.equals(x.messageId()))
                .findFirst()
                .orElseThrow()
                .id();
        assertThat(deadLetters.discard(List.of(rowId))).isEqualTo(1);
        assertThat(deadLetters.show(rowId).orElseThrow().status()).isEqualTo("discarded");
        assertThatThrownBy(() -> deadLetters.replay(999_999_999L))
                .hasMessageContaining("no dead letter with id 999999999");
    }
}
