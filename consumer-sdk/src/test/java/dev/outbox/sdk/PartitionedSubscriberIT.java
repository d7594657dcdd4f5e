package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.protocol.OutboxEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ordered competing consumers: several subscribers on one partitioned subscription handle each
 * key's messages one at a time and in order, a retry holds its key's later messages back, and a
 * subscriber that leaves hands its partitions to one that stood by.
 */
class PartitionedSubscriberIT {

    private static SdkEnvironment env;
    private static Publisher publisher;

    @BeforeAll
    static void setUp() throws Exception {
        env = new SdkEnvironment("partitioned");
        publisher = new Publisher(env.broker);
    }

    @AfterAll
    static void tearDown() {
        if (publisher != null) {
            publisher.close();
        }
        if (env != null) {
            env.close();
        }
    }

    /** One handling: which key, which sequence number, by which instance. */
    record Handled(String key, int seq, String instance) {}

    private static SubscriptionOptions partitioned(String queue) {
        return SubscriptionOptions.queue(queue)
                .partitions(3)
                .prefetch(10)
                .backoff(Duration.ofMillis(50), 2.0)
                .maxRetries(3);
    }

    @Test
    void eachKeyIsHandledInOrderOneAtATimeAndAStandbyTakesOverWhenTheActiveInstanceLeaves() throws Exception {
        List<Handled> handled = new CopyOnWriteArrayList<>();
        Map<String, Integer> inFlight = new ConcurrentHashMap<>();
        List<String> overlaps = new CopyOnWriteArrayList<>();
        AtomicBoolean retried = new AtomicBoolean();
        List<Subscriber> instances = new ArrayList<>();
        try {
            for (String instance : List.of("a", "b")) {
                Subscriber s = new Subscriber(env.broker, "part.#", partitioned("part_orders"), "part-" + instance);
                s.start((headers, body) -> {
                    String key = String.valueOf(headers.get("aggregate-id"));
                    if (inFlight.merge(key, 1, Integer::sum) > 1) {
                        overlaps.add(key);
                    }
                    try {
                        int seq = body.get("seq").asInt();
                        if (key.equals("k7") && seq == 3 && retried.compareAndSet(false, true)) {
                            throw new RetryException("once");
                        }
                        Thread.sleep(1);
                        handled.add(new Handled(key, seq, instance));
                    } finally {
                        inFlight.merge(key, -1, Integer::sum);
                    }
                });
                instances.add(s);
            }
            int keys = 20;
            int perKey = 15;
            for (int seq = 0; seq < perKey; seq++) {
                for (int k = 0; k < keys; k++) {
                    publisher.send(OutboxEvent.builder("part.order.updated")
                            .payload("{\"seq\": " + seq + "}")
                            .aggregate("order", "k" + k)
                            .build());
                }
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() >= keys * perKey);
            assertThat(retried).as("k7's third message was retried once").isTrue();
            assertOrderedPerKey(handled, keys, perKey);
            assertThat(overlaps).as("no key handled twice at once").isEmpty();
            Set<String> instancesUsed = ConcurrentHashMap.newKeySet();
            handled.forEach(h -> instancesUsed.add(h.instance()));
            // RabbitMQ makes the first consumer of a single-active-consumer queue the active one.
            assertThat(instancesUsed)
                    .as("the first instance is active on every partition")
                    .containsExactly("a");

            // One instance leaves: its partitions move to the other, order kept.
            instances.remove(0).close();
            handled.clear();
            for (int seq = 0; seq < 5; seq++) {
                for (int k = 0; k < keys; k++) {
                    publisher.send(OutboxEvent.builder("part.order.updated")
                            .payload("{\"seq\": " + seq + "}")
                            .aggregate("order", "k" + k)
                            .build());
                }
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() >= keys * 5);
            assertOrderedPerKey(handled, keys, 5);
            assertThat(handled).allSatisfy(h -> assertThat(h.instance()).isEqualTo("b"));
        } finally {
            instances.forEach(Subscriber::close);
        }
    }

    @Test
    void aMessageWithoutTheKeyHeaderIsStillDelivered() throws Exception {
        List<Integer> handled = new CopyOnWriteArrayList<>();
        try (Subscriber s = new Subscriber(env.broker, "keyless.#", partitioned("keyless_orders"), "keyless")) {
            s.start((headers, body) -> handled.add(body.get("seq").asInt()));
            for (int seq = 0; seq < 5; seq++) {
                publisher.send(OutboxEvent.of("keyless.created", "{\"seq\": " + seq + "}"));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> handled.size() == 5);
            assertThat(handled).as("all in one partition, so in order").containsExactly(0, 1, 2, 3, 4);
        }
    }

    @Test
    void aRetryThatNeverSucceedsEndsInDeadLettersFromItsPartitionQueue() throws Exception {
        try (Subscriber s = new Subscriber(env.broker, "stuck.#", partitioned("stuck_orders"), "stuck")) {
            s.start((headers, body) -> {
                throw new RetryException("never");
            });
            publisher.send(OutboxEvent.builder("stuck.created")
                    .payload("{}")
                    .aggregate("order", "s1")
                    .build());
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> env.deadLetters("reason = 'retries_exhausted' AND queue LIKE 'stuck_orders.p%'") == 1);
            assertThat(env.db.queryLong("SELECT retry_count FROM dead_letters WHERE queue LIKE 'stuck_orders.p%'"))
                    .isEqualTo(3);
        }
    }

    @Test
    void partitionsNeedOneConsumerEach() {
        assertThatThrownBy(() -> SubscriptionOptions.queue("q").concurrency(4).partitions(3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("concurrency must be 1");
    }

    private static void assertOrderedPerKey(List<Handled> handled, int keys, int perKey) {
        Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();
        for (Handled h : handled) {
            byKey.computeIfAbsent(h.key(), k -> new ArrayList<>()).add(h.seq());
        }
        assertThat(byKey).hasSize(keys);
        for (Map.Entry<String, List<Integer>> e : byKey.entrySet()) {
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < perKey; i++) {
                expected.add(i);
            }
            assertThat(e.getValue()).as("key " + e.getKey()).isEqualTo(expected);
        }
    }
}
