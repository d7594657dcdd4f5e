package dev.outbox.protocol;

import com.rabbitmq.client.Channel;
import java.io.IOException;
import java.util.Map;

/**
 * The exchanges and queues every component agrees on (docs/design.md sections 3 and 4). Whoever
 * declares first, the others' declarations are identical and so never fail.
 */
public final class Topology {

    /** The alternate exchange of every event exchange, and the queue that keeps what it gets. */
    public static final String UNROUTED = "unrouted";
    /** The common dead-letter exchange. */
    public static final String DLX = "DLX";
    /** The queue bound to {@link #DLX} with {@code #}, consumed by the dead-letter capture. */
    public static final String DEAD_LETTERS_QUEUE = "dead_letters";

    private static final Map<String, Object> EVENT_EXCHANGE_ARGS = Map.of("alternate-exchange", UNROUTED);
    private static final Map<String, Object> QUORUM = Map.of("x-queue-type", "quorum");

    private Topology() {}

    /** An event exchange: topic, durable, with {@code alternate-exchange: unrouted}. */
    public static void declareEventExchange(Channel channel, String exchange) throws IOException {
        channel.exchangeDeclare(exchange, "topic", true, false, EVENT_EXCHANGE_ARGS);
    }

    /** The {@code unrouted} fanout exchange and its durable queue. */
    public static void declareUnrouted(Channel channel) throws IOException {
        channel.exchangeDeclare(UNROUTED, "fanout", true, false, null);
        channel.queueDeclare(UNROUTED, true, false, false, QUORUM);
        channel.queueBind(UNROUTED, UNROUTED, "");
    }

    /** {@code DLX} (durable topic) and the {@code dead_letters} queue bound to it with {@code #}. */
    public static void declareDeadLetters(Channel channel) throws IOException {
        channel.exchangeDeclare(DLX, "topic", true, false, null);
        channel.queueDeclare(DEAD_LETTERS_QUEUE, true, false, false, QUORUM);
        channel.queueBind(DEAD_LETTERS_QUEUE, DLX, "#");
    }
}
