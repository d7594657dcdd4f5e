package dev.outbox.relay.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.outbox.protocol.AmqpValues;
import dev.outbox.protocol.RoutingKey;
import dev.outbox.protocol.Topology;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.publish.BrokerConnector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tail PATTERN}: prints matching messages as JSON lines from a temporary queue, like kcat for Kafka. */
@Command(
        name = "tail",
        mixinStandardHelpOptions = true,
        description =
                "Print messages matching a routing-key pattern as JSON lines, from a temporary queue (consumers are not affected).")
final class TailCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", description = "routing-key pattern, e.g. order.# (its first segment names the exchange)")
    String pattern;

    @Option(names = "--count", description = "exit after this many messages (default: until interrupted)")
    int count = 0;

    @Option(names = "--timeout", description = "exit after this many seconds (default: never)")
    int timeoutSeconds = 0;

    @Override
    public Integer call() throws Exception {
        RoutingKey.validate(pattern);
        RelayConfig config = RelayConfig.fromEnv();
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger seen = new AtomicInteger();
        try (Connection connection = new BrokerConnector(config).connect("tail");
                Channel channel = connection.createChannel()) {
            String exchange = RoutingKey.exchangeOf(pattern);
            Topology.declareEventExchange(channel, exchange);
            String queue = channel.queueDeclare().getQueue(); // server-named, exclusive, auto-delete
            channel.queueBind(queue, exchange, pattern);
            channel.basicConsume(
                    queue,
                    true,
                    (tag, d) -> {
                        ObjectNode line = JSON.createObjectNode();
                        line.put("exchange", d.getEnvelope().getExchange());
                        line.put("routing_key", d.getEnvelope().getRoutingKey());
                        line.put("message_id", d.getProperties().getMessageId());
                        line.put("app_id", d.getProperties().getAppId());
                        line.put(
                                "timestamp",
                                d.getProperties().getTimestamp() == null
                                        ? null
                                        : d.getProperties()
                                                .getTimestamp()
                                                .toInstant()
                                                .toString());
                        line.set(
                                "headers",
                                JSON.valueToTree(AmqpValues.jsonSafe(
                                        d.getProperties().getHeaders() == null
                                                ? java.util.Map.of()
                                                : d.getProperties().getHeaders())));
                        line.set("body", body(d.getBody()));
                        synchronized (System.out) {
                            System.out.println(line);
                            System.out.flush();
                        }
                        if (count > 0 && seen.incrementAndGet() >= count) {
                            done.countDown();
                        }
                    },
                    tag -> done.countDown());
            System.err.println("tailing " + pattern + " on exchange " + exchange + " (queue " + queue + ")");
            if (timeoutSeconds > 0) {
                done.await(timeoutSeconds, TimeUnit.SECONDS);
            } else {
                done.await();
            }
        }
        return 0;
    }

    private static JsonNode body(byte[] bytes) {
        try {
            JsonNode node = JSON.readTree(bytes);
            return node == null ? JSON.getNodeFactory().nullNode() : node;
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(new String(bytes, StandardCharsets.UTF_8));
        }
    }
}
