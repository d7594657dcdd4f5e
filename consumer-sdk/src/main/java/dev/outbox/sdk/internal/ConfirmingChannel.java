package dev.outbox.sdk.internal;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.outbox.sdk.Broker;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Publishes a message with a confirm and {@code mandatory}, for the {@code Publisher}, the
 * subscriber's retries and dead letters and for replays: a call returns only once RabbitMQ
 * confirmed its message, so the caller may then acknowledge the original. Thread-safe, and
 * concurrent calls share the channel's confirms: each call publishes under a short lock, then
 * waits for its own confirm outside it, so RabbitMQ confirms the messages of many threads
 * together instead of one round trip after another. A message that makes RabbitMQ close the
 * channel (an exchange deleted behind the SDK's back) fails the calls waiting beside it too: they
 * throw as for any unconfirmed message, and the next call opens a new channel. Plumbing shared
 * by the SDK's parts, not an API for applications.
 */
public final class ConfirmingChannel implements AutoCloseable {

    private static final long CONFIRM_TIMEOUT_MS = 30_000;

    private final Broker broker;
    /** The open channel and the messages published on it awaiting a confirm; guarded by this. */
    private Channel channel;

    private Pendings unconfirmed;

    public ConfirmingChannel(Broker broker) {
        this.broker = broker;
    }

    /** @throws IOException when the message was not confirmed or had no route */
    public void publish(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body)
            throws IOException, InterruptedException {
        Pending pending;
        synchronized (this) {
            try {
                Channel ch = channel();
                // Sequence number and publish under one lock: the number must be this message's.
                pending = unconfirmed.add(ch.getNextPublishSeqNo(), exchange, routingKey, props.getMessageId());
                ch.basicPublish(exchange, routingKey, true, props, body);
            } catch (IOException | RuntimeException e) {
                reset();
                throw failure(exchange, routingKey, e.getMessage(), e);
            }
        }
        String refused;
        try {
            refused = pending.outcome.get(CONFIRM_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            resetIfStill(pending.channel); // the channel is suspect: a late confirm must not count
            throw failure(exchange, routingKey, "no confirm within " + CONFIRM_TIMEOUT_MS + " ms", e);
        } catch (ExecutionException e) {
            throw failure(exchange, routingKey, e.getCause().getMessage(), e.getCause());
        }
        if (refused != null) {
            throw new IOException(refused);
        }
    }

    public synchronized <T> T withChannel(ChannelWork<T> work) throws IOException {
        try {
            return work.run(channel());
        } catch (IOException | RuntimeException e) {
            reset();
            throw e;
        }
    }

    /** Work done on the channel. */
    public interface ChannelWork<T> {
        T run(Channel channel) throws IOException;
    }

    private static IOException failure(String exchange, String routingKey, String reason, Throwable cause) {
        return new IOException(
                "could not publish to exchange '" + exchange + "' with routing key '" + routingKey + "': " + reason,
                cause);
    }

    private Channel channel() throws IOException {
        if (channel == null || !channel.isOpen()) {
            Channel ch = broker.createChannel();
            Pendings forChannel = new Pendings(ch);
            ch.confirmSelect();
            ch.addConfirmListener(forChannel::acked, forChannel::nacked);
            ch.addReturnListener(r -> forChannel.returned(
                    r.getExchange(), r.getRoutingKey(), r.getProperties().getMessageId()));
            ch.addShutdownListener(cause -> forChannel.failAll("the channel closed: " + cause.getMessage()));
            channel = ch;
            unconfirmed = forChannel;
        }
        return channel;
    }

    private synchronized void resetIfStill(Channel suspect) {
        if (channel == suspect) {
            reset();
        }
    }

    private synchronized void reset() {
        Channel c = channel;
        Pendings u = unconfirmed;
        channel = null;
        unconfirmed = null;
        if (c != null && c.isOpen()) {
            try {
                c.abort();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        if (u != null) {
            u.failAll("the channel was reset");
        }
    }

    @Override
    public void close() {
        reset();
    }

    /** A published message awaiting its confirm: the outcome is null when confirmed, or why it was refused. */
    private static final class Pending {
        final Channel channel;
        final String exchange;
        final String routingKey;
        final String messageId;
        final CompletableFuture<String> outcome = new CompletableFuture<>();
        volatile boolean returned;

        Pending(Channel channel, String exchange, String routingKey, String messageId) {
            this.channel = channel;
            this.exchange = exchange;
            this.routingKey = routingKey;
            this.messageId = messageId;
        }
    }

    /** The messages published on one channel and not yet confirmed, fed by that channel's listeners. */
    private static final class Pendings {
        private final Channel channel;
        private final Unconfirmed<Pending> unconfirmed = new Unconfirmed<>();

        Pendings(Channel channel) {
            this.channel = channel;
        }

        Pending add(long sequence, String exchange, String routingKey, String messageId) {
            Pending p = new Pending(channel, exchange, routingKey, messageId);
            unconfirmed.add(sequence, p);
            return p;
        }

        void acked(long sequence, boolean multiple) {
            for (Pending p : unconfirmed.settle(sequence, multiple)) {
                p.outcome.complete(
                        p.returned
                                ? "no queue took the message sent to exchange '" + p.exchange + "' with routing key '"
                                        + p.routingKey + "'"
                                : null);
            }
        }

        void nacked(long sequence, boolean multiple) {
            for (Pending p : unconfirmed.settle(sequence, multiple)) {
                p.outcome.completeExceptionally(new IOException("RabbitMQ nacked the message"));
            }
        }

        void returned(String exchange, String routingKey, String messageId) {
            Pending p = unconfirmed.returned(c -> !c.returned
                    && c.exchange.equals(exchange)
                    && c.routingKey.equals(routingKey)
                    && Objects.equals(c.messageId, messageId));
            if (p != null) {
                p.returned = true;
            }
        }

        void failAll(String reason) {
            for (Pending p : unconfirmed.removeAll()) {
                p.outcome.completeExceptionally(new IOException(reason));
            }
        }
    }
}
