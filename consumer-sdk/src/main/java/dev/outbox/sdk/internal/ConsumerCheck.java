package dev.outbox.sdk.internal;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.outbox.sdk.Broker;
import java.io.IOException;
import java.time.Duration;
import java.util.OptionalInt;

/**
 * Whether RabbitMQ still lists consumers on a queue. A quorum queue whose leader's node stops
 * can lose the consumer of a channel on another node without telling the client (seen on
 * 3.10 in RelayClusterIT: the queue listed 0 consumers and kept its messages, no cancel
 * came), so whoever consumes asks now and then and starts its consumer again when none is left.
 */
public final class ConsumerCheck {

    /** How often consumers check that they are still there. */
    public static final Duration INTERVAL = Duration.ofSeconds(10);

    private ConsumerCheck() {}

    /** The number of consumers RabbitMQ lists on {@code queue}, or empty when it cannot be asked now. */
    public static OptionalInt consumers(Broker broker, String queue) {
        if (!broker.isOpen()) {
            return OptionalInt.empty();
        }
        Channel channel = null;
        try {
            channel = broker.createChannel();
            AMQP.Queue.DeclareOk ok = channel.queueDeclarePassive(queue);
            return OptionalInt.of(ok.getConsumerCount());
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty(); // recovering, or the queue is gone: the other paths handle those
        } finally {
            if (channel != null && channel.isOpen()) {
                try {
                    channel.close();
                } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException ignored) {
                    // closing anyway
                }
            }
        }
    }
}
