package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.protocol.OutboxEvent;
import dev.outbox.sdk.metrics.MicrometerSubscriberMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Outcome counters and handler time of a subscription given a meter registry. */
class SubscriberMetricsIT {

    private static SdkEnvironment env;
    private static Publisher publisher;

    @BeforeAll
    static void setUp() throws Exception {
        env = new SdkEnvironment("subscriber-metrics");
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

    @Test
    void everyOutcomeIsCountedPerQueueAndHandlerTimeRecorded() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        SubscriptionOptions options = SubscriptionOptions.queue("metered")
                .maxRetries(1)
                .backoff(Duration.ofMillis(100), 1.0)
                .metrics(new MicrometerSubscriberMetrics(registry));
        try (Subscriber s = new Subscriber(env.broker, "metered.#", options, "metered")) {
            s.start((headers, body) -> {
                switch (body.get("kind").asText()) {
                    case "ok" -> {}
                    case "retry" -> throw new RetryException("later");
                    default -> throw new IllegalStateException("no");
                }
            });
            assertThat(count(registry, "dead_lettered", "rejected"))
                    .as("counters exist at 0 from the start")
                    .isZero();
            publisher.send(OutboxEvent.of("metered.a", "{\"kind\": \"ok\"}"));
            publisher.send(OutboxEvent.of("metered.a", "{\"kind\": \"ok\"}"));
            publisher.send(OutboxEvent.of("metered.a", "{\"kind\": \"retry\"}"));
            publisher.send(OutboxEvent.of("metered.a", "{\"kind\": \"bad\"}"));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> count(registry, "dead_lettered", "retries_exhausted") == 1);
            assertThat(count(registry, "handled", "none")).isEqualTo(2);
            assertThat(count(registry, "retried", "none")).isEqualTo(1);
            assertThat(count(registry, "dead_lettered", "rejected")).isEqualTo(1);
            assertThat(count(registry, "requeued", "none")).isZero();
            assertThat(registry.get("outbox.consumer.handler")
                            .tag("queue", "metered")
                            .timer()
                            .count())
                    .as("one handler call per delivery: 2 handled, 2 tries of the retried one, 1 rejected")
                    .isEqualTo(5);
        }
    }

    private static double count(MeterRegistry registry, String outcome, String reason) {
        return registry.get("outbox.consumer.messages")
                .tags("queue", "metered", "outcome", outcome, "reason", reason)
                .counter()
                .count();
    }
}
