package dev.outbox.sdk;

import com.rabbitmq.client.Channel;
import dev.outbox.db.OutboxEvent;
import dev.outbox.sdk.wire.OutgoingMessage;
import dev.outbox.sdk.wire.Topology;
import dev.outbox.sdk.wire.WireFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

/**
 * Publishes an event straight to RabbitMQ, without a transaction: for events that need not be
 * atomic with a database change. The message has exactly the relay's wire format. Each send
 * waits for the broker's confirm, so a returned {@code send} means RabbitMQ has the message
 * (or, with no queue bound, the {@code unrouted} queue has it). Thread-safe; sends are
 * serialised on one channel.
 */
public final class Publisher implements AutoCloseable {

    private final Broker broker;
    private final Duration confirmTimeout;
    private final Set<String> declaredExchanges = new HashSet<>();
    private Channel channel;

    public Publisher(Broker broker) {
        this(broker, Duration.ofSeconds(30));
    }

    public Publisher(Broker broker, Duration confirmTimeout) {
        this.broker = broker;
        this.confirmTimeout = confirmTimeout;
    }

    /**
     * Publishes {@code payload} (a JsonNode, JSON text, or any object Jackson serialises) with
     * {@code routingKey} and returns its message id.
     *
     * @throws dev.outbox.db.InvalidEventException for a bad routing key or payload, before anything is sent
     * @throws PublishException when the broker did not confirm the message
     */
    public String send(Object payload, String routingKey) {
        return send(OutboxEvent.of(routingKey, payload));
    }

    /** Publishes {@code event} (headers, aggregate, message id as given) and returns its message id. */
    public synchronized String send(OutboxEvent event) {
        String messageId = event.messageId() == null ? UUID.randomUUID().toString() : event.messageId().toString();
        OutgoingMessage message = new OutgoingMessage(messageId, event.routingKey(),
                event.payloadJson().getBytes(StandardCharsets.UTF_8), event.headers(), null,
                event.aggregateType(), event.aggregateId(), Instant.now());
        try {
            Channel ch = channel();
            if (declaredExchanges.add(message.exchange())) {
                Topology.declareEventExchange(ch, message.exchange());
            }
            ch.basicPublish(message.exchange(), message.routingKey(), true,
                    WireFormat.properties(message, broker.config().appId()), message.body());
            ch.waitForConfirmsOrDie(confirmTimeout.toMillis());
            return messageId;
        } catch (IOException | TimeoutException | RuntimeException e) {
            declaredExchanges.remove(message.exchange());
            closeChannel();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new PublishException("RabbitMQ did not confirm " + message.describe() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeChannel();
            throw new PublishException("interrupted waiting for the confirm of " + message.describe(), e);
        }
    }

    private Channel channel() throws IOException {
        if (channel == null || !channel.isOpen()) {
            channel = broker.createChannel();
            channel.confirmSelect();
            Topology.declareUnrouted(channel);
        }
        return channel;
    }

    private void closeChannel() {
        Channel c = channel;
        channel = null;
        if (c != null && c.isOpen()) {
            try {
                c.abort();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public synchronized void close() {
        closeChannel();
    }
}
