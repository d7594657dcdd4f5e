package dev.outbox.sdk;

import dev.outbox.protocol.EventTracing;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.protocol.OutgoingMessage;
import dev.outbox.protocol.Topology;
import dev.outbox.protocol.WireFormat;
import dev.outbox.sdk.internal.ConfirmingChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Publishes an event straight to RabbitMQ, without a transaction: for events that need not be
 * atomic with a database change. The message has exactly the relay's wire format. Each send
 * waits for the broker's confirm, so a returned {@code send} means RabbitMQ has the message
 * (with no queue bound, the {@code unrouted} queue has it). Thread-safe, and meant to be
 * shared: sends from many threads go out on one channel and are confirmed together, so they
 * do not wait for each other's round trips.
 */
public final class Publisher implements AutoCloseable {

    private final Broker broker;
    private final ConfirmingChannel channel;
    private final Set<String> declaredExchanges = ConcurrentHashMap.newKeySet();
    private final EventTracing tracing;

    /** A publisher that puts the current trace context into each message, as {@link EventTracing#detect()} finds it. */
    public Publisher(Broker broker) {
        this(broker, EventTracing.detect());
    }

    /** A publisher that puts the trace context {@code tracing} gives into each message ({@link EventTracing#NONE}: none). */
    public Publisher(Broker broker, EventTracing tracing) {
        this.broker = broker;
        this.tracing = java.util.Objects.requireNonNull(tracing, "tracing");
        this.channel = new ConfirmingChannel(broker);
    }

    /**
     * Publishes {@code payload} (a JsonNode, JSON text, or any object Jackson serialises) with
     * {@code routingKey} and returns its message id.
     *
     * @throws dev.outbox.protocol.InvalidEventException for a bad routing key or payload, before anything is sent
     * @throws PublishException when the broker did not confirm the message
     */
    public String send(Object payload, String routingKey) {
        return send(OutboxEvent.of(routingKey, payload));
    }

    /** Publishes {@code event} (headers, aggregate, message id as given) and returns its message id. */
    public String send(OutboxEvent untraced) {
        OutboxEvent event = tracing.traced(untraced);
        String messageId = event.messageId() == null
                ? UUID.randomUUID().toString()
                : event.messageId().toString();
        OutgoingMessage message = new OutgoingMessage(
                messageId,
                event.routingKey(),
                event.payloadJson().getBytes(StandardCharsets.UTF_8),
                event.headers(),
                null,
                event.aggregateType(),
                event.aggregateId(),
                Instant.now());
        try {
            if (!declaredExchanges.contains(message.exchange())) {
                boolean first = declaredExchanges.isEmpty();
                channel.withChannel(ch -> {
                    if (first) {
                        Topology.declareUnrouted(ch); // the alternate exchange every event exchange names
                    }
                    Topology.declareEventExchange(ch, message.exchange());
                    return null;
                });
                declaredExchanges.add(message.exchange());
            }
            channel.publish(
                    message.exchange(),
                    message.routingKey(),
                    WireFormat.properties(message, broker.config().appId()),
                    message.body());
            return messageId;
        } catch (IOException e) {
            declaredExchanges.remove(message.exchange());
            throw new PublishException("RabbitMQ did not confirm " + message.describe() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishException("interrupted waiting for the confirm of " + message.describe(), e);
        }
    }

    @Override
    public void close() {
        channel.close();
    }
}
