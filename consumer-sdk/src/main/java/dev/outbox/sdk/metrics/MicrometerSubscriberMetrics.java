package dev.outbox.sdk.metrics;

import dev.outbox.protocol.DeadLetterReason;
import dev.outbox.sdk.SubscriberMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A subscription's outcomes as Micrometer meters (Micrometer is an optional dependency of the
 * SDK): {@code outbox_consumer_messages_total{queue, outcome, reason}} with outcome {@code
 * handled}, {@code retried}, {@code requeued} or {@code dead_lettered} (reason {@code rejected}
 * or {@code retries_exhausted}; {@code none} otherwise), and {@code
 * outbox_consumer_handler_seconds{queue}}. Every counter of a queue exists from its
 * subscription's creation, at 0, so a rule on its increase sees the first one.
 *
 * <pre>{@code
 * SubscriptionOptions.queue("billing_orders").metrics(new MicrometerSubscriberMetrics(meterRegistry))
 * }</pre>
 */
public final class MicrometerSubscriberMetrics implements SubscriberMetrics {

    private record Meters(Map<Outcome, Counter> counters, Timer handler) {}

    private final MeterRegistry registry;
    private final Map<String, Meters> byQueue = new ConcurrentHashMap<>();

    public MicrometerSubscriberMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    @Override
    public void subscribed(String queue) {
        meters(queue);
    }

    @Override
    public void settled(String queue, Outcome outcome, long handlerNanos) {
        Meters m = meters(queue);
        m.counters().get(outcome).increment();
        m.handler().record(handlerNanos, TimeUnit.NANOSECONDS);
    }

    private Meters meters(String queue) {
        return byQueue.computeIfAbsent(queue, q -> {
            Map<Outcome, Counter> counters = new EnumMap<>(Outcome.class);
            for (Outcome o : Outcome.values()) {
                counters.put(
                        o,
                        Counter.builder("outbox.consumer.messages")
                                .description("Messages a subscription settled, by outcome")
                                .tag("queue", q)
                                .tag("outcome", outcome(o))
                                .tag("reason", reason(o))
                                .register(registry));
            }
            Timer handler = Timer.builder("outbox.consumer.handler")
                    .description("Time in the subscription's handler, whatever its outcome")
                    .tag("queue", q)
                    .register(registry);
            return new Meters(counters, handler);
        });
    }

    private static String outcome(Outcome o) {
        return switch (o) {
            case HANDLED -> "handled";
            case RETRIED -> "retried";
            case REQUEUED -> "requeued";
            case REJECTED, RETRIES_EXHAUSTED -> "dead_lettered";
        };
    }

    private static String reason(Outcome o) {
        return switch (o) {
            case REJECTED -> DeadLetterReason.REJECTED;
            case RETRIES_EXHAUSTED -> DeadLetterReason.RETRIES_EXHAUSTED;
            default -> "none";
        };
    }
}
