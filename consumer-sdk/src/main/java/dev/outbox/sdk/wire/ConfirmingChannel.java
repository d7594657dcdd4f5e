package dev.outbox.sdk.wire;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.outbox.sdk.Broker;
import java.io.IOException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Publishes a message with a confirm and {@code mandatory}, for the subscriber's retries and
 * dead letters and for replays: the caller acknowledges the original only after this returns.
 * One channel, calls serialised. Plumbing shared by the SDK's parts, not an API for applications.
 */
public final class ConfirmingChannel implements AutoCloseable {

    private final Broker broker;
    private Channel channel;
    private final AtomicBoolean returned = new AtomicBoolean();

    public ConfirmingChannel(Broker broker) {
        this.broker = broker;
    }

    /** @throws IOException when the message was not confirmed or had no route */
    public synchronized void publish(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body)
            throws IOException, InterruptedException {
        Channel ch = channel();
        returned.set(false);
        try {
            ch.basicPublish(exchange, routingKey, true, props, body);
            ch.waitForConfirmsOrDie(30_000);
        } catch (IOException | TimeoutException | RuntimeException e) {
            reset();
            throw new IOException("could not publish to exchange '" + exchange + "' with routing key '" + routingKey
                    + "': " + e.getMessage(), e);
        }
        if (returned.get()) {
            throw new IOException("no queue took the message sent to exchange '" + exchange + "' with routing key '"
                    + routingKey + "'");
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

    private Channel channel() throws IOException {
        if (channel == null || !channel.isOpen()) {
            channel = broker.createChannel();
            channel.confirmSelect();
            channel.addReturnListener(r -> returned.set(true));
        }
        return channel;
    }

    private void reset() {
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
        reset();
    }
}
