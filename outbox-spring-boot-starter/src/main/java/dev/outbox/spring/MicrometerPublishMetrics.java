package dev.outbox.spring;

import dev.outbox.protocol.RoutingKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * {@code outbox_events_written_total{exchange}} and {@code outbox_messages_sent_total{exchange,
 * outcome}} with {@code outbox_send_seconds{exchange}}: tagged by exchange (the routing key's
 * first part), not by routing key, so the number of series stays that of the exchanges.
 */
final class MicrometerPublishMetrics implements PublishMetrics {

    private final MeterRegistry registry;

    MicrometerPublishMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void written(String routingKey, int events) {
        Counter.builder("outbox.events.written")
                .description("Events committed by OutboxPublisher.publish (the relay sends each one)")
                .tag("exchange", RoutingKey.exchangeOf(routingKey))
                .register(registry)
                .increment(events);
    }

    @Override
    public void sent(String routingKey, boolean confirmed, long nanos) {
        String exchange = RoutingKey.exchangeOf(routingKey);
        Counter.builder("outbox.messages.sent")
                .description("Messages sent straight to RabbitMQ by OutboxPublisher.send, by outcome")
                .tag("exchange", exchange)
                .tag("outcome", confirmed ? "confirmed" : "failed")
                .register(registry)
                .increment();
        Timer.builder("outbox.send")
                .description("Time from send to the broker's confirm")
                .tag("exchange", exchange)
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }
}
