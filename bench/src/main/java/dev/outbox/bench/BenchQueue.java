package dev.outbox.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import dev.outbox.protocol.Topology;
import dev.outbox.testing.RabbitFixture;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * The shape every broker-side figure is taken on, the same for the plain client, the SDK,
 * the relay's publisher and the relay itself: topic exchange {@code bench} (durable,
 * alternate-exchange unrouted, as the relay declares it) bound with {@code bench.#} to one
 * durable quorum queue (the SDK's default queue type), drained by an auto-ack consumer.
 */
final class BenchQueue implements AutoCloseable {

    static final String EXCHANGE = "bench";
    static final String QUEUE = "bench_events";

    private final Connection connection;
    private final Channel channel;

    private BenchQueue(Connection connection, Channel channel) {
        this.connection = connection;
        this.channel = channel;
    }

    /** Declares the topology in the vhost of {@code uri} and starts consuming into {@code onMessage}. */
    static BenchQueue open(String uri, DeliverCallback onMessage) throws IOException, TimeoutException {
        Connection c = RabbitFixture.connectionFactory(uri).newConnection("bench-consumer");
        Channel ch = c.createChannel();
        Topology.declareUnrouted(ch);
        Topology.declareEventExchange(ch, EXCHANGE);
        ch.queueDeclare(QUEUE, true, false, false, Map.of("x-queue-type", queueType()));
        ch.queueBind(QUEUE, EXCHANGE, EXCHANGE + ".#");
        ch.basicQos(5000);
        ch.basicConsume(QUEUE, true, onMessage, tag -> {});
        return new BenchQueue(c, ch);
    }

    /** quorum (the SDK's default), or BENCH_QUEUE_TYPE=classic to see what the queue type costs. */
    static String queueType() {
        return System.getenv().getOrDefault("BENCH_QUEUE_TYPE", "quorum");
    }

    /** Empties the queue of what an earlier run left. */
    void purge() throws IOException {
        channel.queuePurge(QUEUE);
    }

    long depth() throws IOException {
        return channel.messageCount(QUEUE);
    }

    @Override
    public void close() throws IOException {
        connection.abort();
    }
}
