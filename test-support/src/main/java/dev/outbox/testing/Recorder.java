package dev.outbox.testing;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A consumer that records every delivery on a queue, for counting like Jepsen does: lost
 * (expected but never delivered), unexpected (delivered but never expected), duplicates.
 * It acks each delivery after recording it.
 */
public final class Recorder implements AutoCloseable {

    /** One delivery as seen by a consumer. */
    public record Delivery(
            String queue,
            String exchange,
            String routingKey,
            AMQP.BasicProperties properties,
            byte[] body,
            boolean redelivered,
            long receivedNanos) {
        public String messageId() {
            return properties.getMessageId();
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            Map<String, Object> headers = properties.getHeaders();
            Object value = headers == null ? null : headers.get(name);
            return value == null ? null : value.toString();
        }
    }

    private final Connection connection;
    private final Channel channel;
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

    private Recorder(Connection connection, Channel channel) {
        this.connection = connection;
        this.channel = channel;
    }

    /**
     * Declares {@code queue} (durable, classic) bound to each {@code exchange:pattern} given and records what
     * arrives. The exchanges are declared as the relay declares them, so either side may come first.
     */
    public static Recorder bind(RabbitFixture broker, String queue, String... exchangeColonPatterns) {
        return bind(broker.connectionFactory(), queue, exchangeColonPatterns);
    }

    /** As {@link #bind(RabbitFixture, String, String...)} on the broker (or virtual host) of {@code factory}. */
    public static Recorder bind(
            com.rabbitmq.client.ConnectionFactory factory, String queue, String... exchangeColonPatterns) {
        try {
            Connection connection = factory.newConnection("recorder-" + queue);
            Channel channel = connection.createChannel();
            channel.queueDeclare(queue, true, false, false, null);
            for (String binding : exchangeColonPatterns) {
                int colon = binding.indexOf(':');
                String exchange = binding.substring(0, colon);
                channel.exchangeDeclare(exchange, "topic", true, false, Map.of("alternate-exchange", "unrouted"));
                channel.queueBind(queue, exchange, binding.substring(colon + 1));
            }
            return consume(connection, channel, queue);
        } catch (Exception e) {
            throw new IllegalStateException("could not bind recorder queue " + queue + ": " + e.getMessage(), e);
        }
    }

    /** Records what arrives on an existing queue. */
    public static Recorder existing(RabbitFixture broker, String queue) {
        return existing(broker.connectionFactory(), queue);
    }

    public static Recorder existing(com.rabbitmq.client.ConnectionFactory factory, String queue) {
        try {
            Connection connection = factory.newConnection("recorder-" + queue);
            return consume(connection, connection.createChannel(), queue);
        } catch (Exception e) {
            throw new IllegalStateException("could not consume " + queue + ": " + e.getMessage(), e);
        }
    }

    private static Recorder consume(Connection connection, Channel channel, String queue) throws Exception {
        Recorder recorder = new Recorder(connection, channel);
        channel.basicQos(500);
        DeliverCallback onDelivery = (tag, d) -> {
            recorder.deliveries.add(new Delivery(
                    queue,
                    d.getEnvelope().getExchange(),
                    d.getEnvelope().getRoutingKey(),
                    d.getProperties(),
                    d.getBody(),
                    d.getEnvelope().isRedeliver(),
                    System.nanoTime()));
            channel.basicAck(d.getEnvelope().getDeliveryTag(), false);
        };
        channel.basicConsume(queue, false, onDelivery, tag -> {});
        return recorder;
    }

    public List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    public List<String> messageIds() {
        List<String> ids = new ArrayList<>();
        for (Delivery d : deliveries) {
            ids.add(d.messageId());
        }
        return ids;
    }

    /** Deliveries whose message id is in {@code ids}, in arrival order. */
    public List<Delivery> deliveriesOf(Collection<String> ids) {
        Set<String> wanted = new HashSet<>(ids);
        List<Delivery> result = new ArrayList<>();
        for (Delivery d : deliveries) {
            if (wanted.contains(d.messageId())) {
                result.add(d);
            }
        }
        return result;
    }

    /** Lost, unexpected and duplicate counts of what was recorded against what was expected. */
    public Tally tally(Collection<String> expected) {
        Map<String, Integer> seen = new HashMap<>();
        for (Delivery d : deliveries) {
            seen.merge(String.valueOf(d.messageId()), 1, Integer::sum);
        }
        Set<String> expectedSet = new HashSet<>(expected);
        int lost = 0;
        for (String id : expectedSet) {
            if (!seen.containsKey(id)) {
                lost++;
            }
        }
        int unexpected = 0;
        int duplicates = 0;
        for (Map.Entry<String, Integer> e : seen.entrySet()) {
            if (!expectedSet.contains(e.getKey())) {
                unexpected++;
            }
            duplicates += e.getValue() - 1;
        }
        return new Tally(expectedSet.size(), deliveries.size(), lost, unexpected, duplicates, orderViolations());
    }

    /**
     * Order violations on first sight: a message whose {@code event-id} is lower than that of an
     * earlier first delivery of the same routing key. Copies delivered again are not counted
     * (a re-published message arrives after later ones by nature); its first arrival is.
     */
    public int orderViolations() {
        Set<String> seen = new HashSet<>();
        Map<String, Long> highest = new HashMap<>();
        int violations = 0;
        for (Delivery d : deliveries) {
            String id = d.header("event-id");
            if (id == null || !seen.add(String.valueOf(d.messageId()))) {
                continue;
            }
            String key = d.header("original-routing-key") != null ? d.header("original-routing-key") : d.routingKey();
            long eventId = Long.parseLong(id);
            Long before = highest.get(key);
            if (before != null && eventId < before) {
                violations++;
            } else {
                highest.put(key, eventId);
            }
        }
        return violations;
    }

    /** Counts of one run: lost, unexpected and order violations must be 0; duplicates are reported. */
    public record Tally(int expected, int delivered, int lost, int unexpected, int duplicates, int orderViolations) {
        @Override
        public String toString() {
            return "expected=" + expected + " delivered=" + delivered + " lost=" + lost + " unexpected=" + unexpected
                    + " duplicates=" + duplicates + " order-violations=" + orderViolations;
        }
    }

    @Override
    public void close() {
        try {
            connection.close(2000);
        } catch (Exception ignored) {
            // already closed
        }
    }
}
