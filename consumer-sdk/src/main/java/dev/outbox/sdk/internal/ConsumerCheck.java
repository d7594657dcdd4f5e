package dev.outbox.sdk.internal;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.outbox.sdk.Broker;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

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

    /**
     * The queues of {@code queues} on which RabbitMQ lists no consumer, asked on one channel;
     * empty when it cannot be asked now (recovering; a queue that is gone is for the other paths).
     */
    public static Set<String> withoutConsumers(Broker broker, Collection<String> queues) {
        Set<String> empty = new LinkedHashSet<>();
        if (!broker.isOpen()) {
            return empty;
        }
        Channel channel = null;
        try {
            for (String queue : new LinkedHashSet<>(queues)) {
                if (channel == null || !channel.isOpen()) {
                    channel = broker.createChannel(); // a passive declare of a missing queue closes it
                }
                try {
                    AMQP.Queue.DeclareOk ok = channel.queueDeclarePassive(queue);
                    if (ok.getConsumerCount() == 0) {
                        empty.add(queue);
                    }
                } catch (IOException | RuntimeException e) {
                    // recovering, or the queue is gone: the other paths handle those
                }
            }
        } catch (IOException | RuntimeException e) {
            // no channel now: ask again next time
        } finally {
            if (channel != null && channel.isOpen()) {
                try {
                    channel.close();
                } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException ignored) {
                    // closing anyway
                }
            }
        }
        return empty;
    }
}
