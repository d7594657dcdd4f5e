package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import dev.outbox.protocol.Headers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SubscriberIT {

    private static SdkEnvironment env;
    private static Publisher publisher;

    @BeforeAll
    static void setUp() throws Exception {
        env = new SdkEnvironment("subscriber");
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

    private static SubscriptionOptions fastRetries(String queue) {
        return SubscriptionOptions.queue(queue).backoff(Duration.ofMillis(200), 2.0);
    }

    @Test
    void handlerGetsAmqpPropertiesOurHeadersAndTheJsonBody() throws Exception {
        List<Map<String, Object>> headers = new CopyOnWriteArrayList<>();
        List<JsonNode> bodies = new CopyOnWriteArrayList<>();
        try (Subscriber s =
                new Subscriber(env.broker, "order.created.*", SubscriptionOptions.queue("props"), "props-task")) {
            s.start((h, body) -> {
                headers.add(h);
                bodies.add(body);
            });
            String id = publisher.send(dev.outbox.protocol.OutboxEvent.builder("order.created.v1")
                    .payload("{\"id\":42}")
                    .header("tenant", "acme")
                    .aggregate("order", 42)
                    .build());
            await().atMost(Duration.ofSeconds(10)).until(() -> bodies.size() == 1);
            Map<String, Object> h = headers.get(0);
            assertThat(h)
                    .containsEntry("message-id", id)
                    .containsEntry("app-id", "it-" + env.vhost.name())
                    .containsEntry("routing-key", "order.created.v1")
                    .containsEntry("exchange", "order")
                    .containsEntry("redelivered", false)
                    .containsEntry("content-type", "application/json")
                    .containsEntry("tenant", "acme")
                    .containsEntry("aggregate-type", "order")
                    .containsEntry("aggregate-id", "42")
                    .containsKey("created-at");
            assertThat(h.get("timestamp")).isInstanceOf(Instant.class);
            assertThat(bodies.get(0).get("id").asInt()).isEqualTo(42);
        }
    }

    @Test
    void retryTwiceThenSuccessIsProcessedOnceAfterThreeDeliveriesWithTheBackoff() throws Exception {
        List<Long> deliveredAt = new CopyOnWriteArrayList<>();
        List<Integer> retryCounts = new CopyOnWriteArrayList<>();
        AtomicInteger processed = new AtomicInteger();
        try (Subscriber s = new Subscriber(env.broker, "retry.twice", fastRetries("retry_twice"), "retry-twice")) {
            s.start((h, body) -> {
                deliveredAt.add(System.nanoTime());
                retryCounts.add(
                        h.containsKey(Headers.RETRY_COUNT)
                                ? Integer.parseInt(h.get(Headers.RETRY_COUNT).toString())
                                : 0);
                if (deliveredAt.size() < 3) {
                    throw new RetryException();
                }
                processed.incrementAndGet();
            });
            publisher.send("{}", "retry.twice");
            await().atMost(Duration.ofSeconds(15)).until(() -> processed.get() == 1);
            TimeUnit.MILLISECONDS.sleep(1000); // nothing more may arrive: a fourth delivery would be a bug
            assertThat(deliveredAt).hasSize(3);
            assertThat(retryCounts).containsExactly(0, 1, 2);
            assertThat(TimeUnit.NANOSECONDS.toMillis(deliveredAt.get(1) - deliveredAt.get(0)))
                    .isGreaterThanOrEqualTo(190);
            assertThat(TimeUnit.NANOSECONDS.toMillis(deliveredAt.get(2) - deliveredAt.get(1)))
                    .isGreaterThanOrEqualTo(390);
        }
    }

    @Test
    void alwaysRetryingIsDeliveredSixTimesThenCapturedAsRetriesExhausted() throws Exception {
        AtomicInteger deliveries = new AtomicInteger();
        try (Subscriber s = new Subscriber(
                env.broker,
                "retry.always",
                fastRetries("retry_always").backoff(Duration.ofMillis(50), 2.0),
                "retry-always")) {
            s.start((h, body) -> {
                deliveries.incrementAndGet();
                throw new RetryException("still not ready");
            });
            String id = publisher.send("{\"n\":1}", "retry.always");
            await().atMost(Duration.ofSeconds(20)).until(() -> env.deadLetters("message_id = '" + id + "'") == 1);
            assertThat(deliveries.get()).isEqualTo(6);
            assertThat(env.deadLetters("message_id = '" + id + "' AND reason = 'retries_exhausted' AND retry_count = 5"
                            + " AND queue = 'retry_always' AND routing_key = 'retry.always' AND exchange = 'retry'"
                            + " AND last_error LIKE '%RetryException: still not ready%' AND status = 'new'"))
                    .isEqualTo(1);
        }
    }

    @Test
    void retryExceptionMayCarryItsOwnDelay() throws Exception {
        List<Long> deliveredAt = new CopyOnWriteArrayList<>();
        try (Subscriber s = new Subscriber(env.broker, "retry.custom", fastRetries("retry_custom"), "retry-custom")) {
            s.start((h, body) -> {
                deliveredAt.add(System.nanoTime());
                if (deliveredAt.size() == 1) {
                    throw new RetryException("later", Duration.ofMillis(1200));
                }
            });
            publisher.send("{}", "retry.custom");
            await().atMost(Duration.ofSeconds(10)).until(() -> deliveredAt.size() == 2);
            assertThat(TimeUnit.NANOSECONDS.toMillis(deliveredAt.get(1) - deliveredAt.get(0)))
                    .isGreaterThanOrEqualTo(1150);
        }
    }

    record Order(int id, String customer) {}

    @Test
    void poisonBadJsonAndUnbindableBodiesAreDeadLetteredWhileOthersFlow() throws Exception {
        List<Order> handled = new CopyOnWriteArrayList<>();
        try (Subscriber s =
                new Subscriber(env.broker, "poison.*", SubscriptionOptions.queue("poison"), "poison-task")) {
            s.start(Order.class, (h, order) -> {
                if (order.id() == 13) {
                    throw new IllegalStateException("unlucky order");
                }
                handled.add(order);
            });
            String poison = publisher.send("{\"id\":13,\"customer\":\"x\"}", "poison.order");
            String unbindable = publisher.send("{\"id\":\"not a number\"}", "poison.order");
            AMQP.BasicProperties raw = new AMQP.BasicProperties.Builder()
                    .messageId("raw-1")
                    .deliveryMode(2)
                    .build();
            env.publishRaw("poison", "poison.raw", raw, "this is not json".getBytes(StandardCharsets.UTF_8));
            publisher.send("{\"id\":1,\"customer\":\"ok\"}", "poison.order");

            await().atMost(Duration.ofSeconds(15))
                    .until(() -> env.deadLetters("queue = 'poison'") == 3 && handled.size() == 1);
            assertThat(env.deadLetters("message_id = '" + poison + "' AND reason = 'rejected'"
                            + " AND last_error LIKE 'java.lang.IllegalStateException: unlucky order%'"))
                    .isEqualTo(1);
            assertThat(env.deadLetters("message_id = '" + unbindable + "' AND reason = 'rejected'"
                            + " AND last_error LIKE '%does not bind to%'"))
                    .isEqualTo(1);
            assertThat(
                            env.deadLetters(
                                    "message_id = 'raw-1' AND reason = 'rejected' AND body_json IS NULL"
                                            + " AND convert_from(body, 'UTF8') = 'this is not json' AND last_error LIKE '%not valid JSON%'"))
                    .isEqualTo(1);
            assertThat(handled).extracting(Order::id).containsExactly(1);
        }
    }

    @Test
    void aHandlerThatThrowsAnErrorHasItsMessageDeadLetteredAndTheSubscriptionGoesOn() throws Exception {
        // An Error escaped the SDK's catch of Exception: the client closed the channel, the message came
        // back and did it again, and the subscription stopped consuming without a word.
        List<Order> handled = new CopyOnWriteArrayList<>();
        try (Subscriber s =
                new Subscriber(env.broker, "errors.*", SubscriptionOptions.queue("errors"), "errors-task")) {
            s.start(Order.class, (h, order) -> {
                if (order.id() == 7) {
                    throw new AssertionError("handler bug");
                }
                if (order.id() == 8) {
                    throw new StackOverflowError();
                }
                handled.add(order);
            });
            String assertion = publisher.send("{\"id\":7,\"customer\":\"x\"}", "errors.order");
            String overflow = publisher.send("{\"id\":8,\"customer\":\"x\"}", "errors.order");
            publisher.send("{\"id\":1,\"customer\":\"ok\"}", "errors.order");

            await().atMost(Duration.ofSeconds(15))
                    .until(() -> env.deadLetters("queue = 'errors'") == 2 && handled.size() == 1);
            assertThat(env.deadLetters("message_id = '" + assertion + "' AND reason = 'rejected'"
                            + " AND last_error LIKE 'java.lang.AssertionError: handler bug%'"))
                    .isEqualTo(1);
            assertThat(env.deadLetters("message_id = '" + overflow + "' AND reason = 'rejected'"
                            + " AND last_error LIKE 'java.lang.StackOverflowError%'"))
                    .isEqualTo(1);
            publisher.send("{\"id\":2,\"customer\":\"later\"}", "errors.order");
            await().atMost(Duration.ofSeconds(15)).until(() -> handled.size() == 2);
            assertThat(handled).extracting(Order::id).containsExactly(1, 2);
        }
    }

    @Test
    void expiredMessagesAreDeadLetteredByRabbitMqWithReasonExpired() throws Exception {
        SubscriptionOptions withTtl = SubscriptionOptions.queue("ttl_queue").messageTtl(Duration.ofMillis(300));
        Subscriber declareOnly = new Subscriber(env.broker, "ttl.*", withTtl, "ttl-task");
        declareOnly.start((h, body) -> {});
        declareOnly.close(); // the queue stays, with nobody consuming
        String id = publisher.send("{}", "ttl.x");
        await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = '" + id + "'") == 1);
        assertThat(env.deadLetters("message_id = '" + id + "' AND reason = 'expired' AND queue = 'ttl_queue'"
                        + " AND routing_key = 'ttl.x'"))
                .isEqualTo(1);
    }

    @Test
    void consumerKilledMidHandlerHasItsMessageRedeliveredToAnother() throws Exception {
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        List<String> survivorGot = new CopyOnWriteArrayList<>();
        Broker doomed = env.newBroker("doomed");
        try (Subscriber victim = new Subscriber(doomed, "kill.x", SubscriptionOptions.queue("kill_q"), "victim")) {
            victim.start((h, body) -> {
                inHandler.countDown();
                never.await();
            });
            String id = publisher.send("{}", "kill.x");
            assertThat(inHandler.await(10, TimeUnit.SECONDS)).isTrue();
            doomed.connection().abort(); // the process "dies": no ack was sent
            never.countDown();
            try (Subscriber survivor =
                    new Subscriber(env.broker, "kill.x", SubscriptionOptions.queue("kill_q"), "survivor")) {
                survivor.start((h, body) -> survivorGot.add((String) h.get("message-id")));
                await().atMost(Duration.ofSeconds(15)).until(() -> survivorGot.contains(id));
            }
        } finally {
            never.countDown();
        }
    }

    @Test
    void brokerClosingTheConnectionIsRecoveredAndConsumingResumes() throws Exception {
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        try (Broker own = env.newBroker("recovering-" + env.vhost.name());
                Subscriber s = new Subscriber(own, "recover.x", SubscriptionOptions.queue("recover_q"), "recover")) {
            s.start((h, body) -> seen.merge((String) h.get("message-id"), 1, Integer::sum));
            String before = publisher.send("{}", "recover.x");
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.containsKey(before));
            assertThat(dev.outbox.testing.BrokerFaults.closeConnections("recovering-" + env.vhost.name()))
                    .isPositive();
            await().atMost(Duration.ofSeconds(30)).until(own::isOpen);
            String after = publisher.send("{}", "recover.x");
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.containsKey(after));
        }
    }

    @Test
    void aDeletedQueueIsDeclaredAgainAndEveryConsumerComesBack() throws Exception {
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        try (Subscriber s = new Subscriber(
                env.broker, "revive.x", SubscriptionOptions.queue("revive_q").concurrency(2), "revive")) {
            assertThat(s.state()).isEqualTo(Subscriber.State.NEW);
            s.start((h, body) -> seen.merge((String) h.get("message-id"), 1, Integer::sum));
            assertThat(s.state()).isEqualTo(Subscriber.State.RUNNING);
            // Before: RabbitMQ cancelled both consumers, a WARN said so, and the subscription consumed nothing more.
            dev.outbox.testing.BrokerFaults.rabbitmqctl("delete_queue", "-p", env.vhost.name(), "revive_q");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> s.state() == Subscriber.State.RUNNING && consumers("revive_q") == 2);
            String after = publisher.send("{}", "revive.x");
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.containsKey(after));
        }
    }

    @Test
    void aConsumerRabbitMqWillNotLetBackStopsTheSubscriptionAndSubscribeSaysWhy() throws Exception {
        Subscriber s = new Subscriber(env.broker, "refused.x", SubscriptionOptions.queue("refused_q"), "refused");
        java.util.concurrent.CompletableFuture<Throwable> outcome = new java.util.concurrent.CompletableFuture<>();
        Thread subscribing = new Thread(
                () -> {
                    try {
                        s.subscribe((h, body) -> {});
                        outcome.complete(null);
                    } catch (Throwable t) {
                        outcome.complete(t);
                    }
                },
                "refused-subscribe");
        subscribing.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> s.state() == Subscriber.State.RUNNING);
            // Without the right to declare, the consumer cannot come back: retrying for ever would be a silent stall.
            dev.outbox.testing.BrokerFaults.rabbitmqctl(
                    "set_permissions", "-p", env.vhost.name(), user(), "^$", ".*", ".*");
            dev.outbox.testing.BrokerFaults.rabbitmqctl("delete_queue", "-p", env.vhost.name(), "refused_q");
            Throwable thrown = outcome.get(30, TimeUnit.SECONDS);
            assertThat(thrown)
                    .isInstanceOf(SubscriptionFailedException.class)
                    .hasMessageContaining("refused_q")
                    .hasMessageContaining("403");
            assertThat(s.state()).isEqualTo(Subscriber.State.FAILED);
            assertThat(s.failure()).isPresent();
        } finally {
            dev.outbox.testing.BrokerFaults.rabbitmqctl(
                    "set_permissions", "-p", env.vhost.name(), user(), ".*", ".*", ".*");
            s.close();
            subscribing.join(10_000);
        }
    }

    private static String user() {
        return java.net.URI.create(env.vhost.uri()).getUserInfo().split(":")[0];
    }

    private static int consumers(String queue) throws Exception {
        try (com.rabbitmq.client.Connection c = env.connectionFactory().newConnection();
                com.rabbitmq.client.Channel ch = c.createChannel()) {
            return ch.queueDeclarePassive(queue).getConsumerCount();
        }
    }

    @Test
    void headersThatSteerTheSdkAreNotTakenFromAPublisherOutsideIt() throws Exception {
        List<Map<String, Object>> seen = new CopyOnWriteArrayList<>();
        SubscriptionOptions options =
                SubscriptionOptions.queue("forged_q").maxRetries(1).backoff(Duration.ofMillis(100), 1.0);
        try (Subscriber s = new Subscriber(env.broker, "forged.x", options, "forged")) {
            s.start((h, body) -> {
                seen.add(h);
                throw new RetryException();
            });
            for (Object count : List.of(-7, 1_000_000_000L, "lots")) {
                String id = "forged-" + count;
                env.publishRaw(
                        "forged",
                        "forged.x",
                        new AMQP.BasicProperties.Builder()
                                .messageId(id)
                                .contentType("application/json")
                                .headers(Map.of(
                                        "retry-count",
                                        count,
                                        "original-exchange",
                                        "victim",
                                        "original-routing-key",
                                        "victim.y"))
                                .build(),
                        "{}".getBytes(StandardCharsets.UTF_8));
                await().atMost(Duration.ofSeconds(20)).until(() -> env.deadLetters("message_id = '" + id + "'") == 1);
                List<Map<String, Object>> deliveries = seen.stream()
                        .filter(h -> id.equals(h.get("message-id")))
                        .toList();
                assertThat(deliveries)
                        .as("a forged count of %s is 0: first delivery, one retry, then exhausted", count)
                        .extracting(h -> h.get("retry-count"))
                        .containsExactly(0, 1);
                assertThat(deliveries).extracting(h -> h.get("routing-key")).containsOnly("forged.x");
                assertThat(env.deadLetters("message_id = '" + id + "' AND reason = 'retries_exhausted'"
                                + " AND routing_key = 'forged.x' AND exchange = 'forged' AND queue = 'forged_q'"))
                        .isEqualTo(1);
            }
        }
    }

    @Test
    void workAndRetryQueuesAreDeclaredToDeadLetterAtLeastOnceAndRetryQueuesToExpire() throws Exception {
        AtomicInteger deliveries = new AtomicInteger();
        try (Subscriber s = new Subscriber(env.broker, "shape.x", SubscriptionOptions.queue("shape_q"), "shape")) {
            s.start((h, body) -> {
                if (deliveries.incrementAndGet() == 1) {
                    throw new RetryException("later", Duration.ofMillis(700));
                }
            });
            publisher.send("{}", "shape.x");
            await().atMost(Duration.ofSeconds(10)).until(() -> deliveries.get() == 2);
        }
        String listed = dev.outbox.testing.BrokerFaults.rabbitmqctl(
                "list_queues", "-p", env.vhost.name(), "--no-table-headers", "name", "type", "arguments");
        assertThat(line(listed, "shape_q"))
                .contains("quorum")
                .contains("at-least-once")
                .contains("reject-publish");
        assertThat(line(listed, "shape_q.retry.1000"))
                .as("700 ms rounded up to the 1 s step")
                .contains("quorum")
                .contains("at-least-once")
                .contains("x-expires");
    }

    @Test
    void aQueueDeclaredByAnEarlierVersionIsUsedAsItIsRetriesIncluded() throws Exception {
        // RabbitMQ refuses to redeclare a queue with other arguments (406), which would have stopped every subscriber
        // of a queue an earlier version declared. They are used as they are, with a WARN saying how to upgrade them.
        try (com.rabbitmq.client.Connection c = env.connectionFactory().newConnection();
                com.rabbitmq.client.Channel ch = c.createChannel()) {
            ch.queueDeclare(
                    "legacy_q",
                    true,
                    false,
                    false,
                    Map.of("x-queue-type", "quorum", "x-dead-letter-exchange", "DLX", "x-delivery-limit", 20));
            ch.queueDeclare(
                    "legacy_q.retry.1000",
                    true,
                    false,
                    false,
                    Map.of(
                            "x-message-ttl",
                            1000L,
                            "x-dead-letter-exchange",
                            "",
                            "x-dead-letter-routing-key",
                            "legacy_q"));
        }
        AtomicInteger deliveries = new AtomicInteger();
        try (Subscriber s = new Subscriber(env.broker, "legacy.x", SubscriptionOptions.queue("legacy_q"), "legacy")) {
            s.start((h, body) -> {
                if (deliveries.incrementAndGet() == 1) {
                    throw new RetryException();
                }
            });
            assertThat(s.state()).isEqualTo(Subscriber.State.RUNNING);
            publisher.send("{}", "legacy.x");
            await().atMost(Duration.ofSeconds(10)).until(() -> deliveries.get() == 2);
        }
    }

    private static String line(String listing, String queue) {
        return java.util.Arrays.stream(listing.split("\n"))
                .filter(l -> l.startsWith(queue + "\t"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("queue " + queue + " not listed in:\n" + listing));
    }

    @Test
    void closeLetsTheRunningHandlerFinishAndAcksIt() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger finished = new AtomicInteger();
        Subscriber s = new Subscriber(env.broker, "close.x", SubscriptionOptions.queue("close_q"), "closer");
        s.start((h, body) -> {
            started.countDown();
            TimeUnit.MILLISECONDS.sleep(500);
            finished.incrementAndGet();
        });
        publisher.send("{}", "close.x");
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        s.close();
        assertThat(finished.get()).isEqualTo(1);
        // Acked: the queue is empty and nothing comes back.
        try (com.rabbitmq.client.Connection c = env.connectionFactory().newConnection();
                com.rabbitmq.client.Channel ch = c.createChannel()) {
            assertThat(ch.messageCount("close_q")).isZero();
        }
    }
}
