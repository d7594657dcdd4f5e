package dev.outbox.relay.cli;

import dev.outbox.protocol.OutboxEvent;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.Publisher;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code publish ROUTING_KEY JSON}: one message straight to RabbitMQ, in the relay's wire format. */
@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description = "Publish one message straight to RabbitMQ (no outbox row), waiting for the broker's confirm.")
final class PublishCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "routing key, e.g. order.created")
    String routingKey;

    @Parameters(index = "1", description = "the JSON body")
    String json;

    @Option(
            names = {"-H", "--header"},
            description = "header name=value (repeatable)")
    List<String> headers;

    @Override
    public Integer call() throws Exception {
        Map<String, String> parsed = new LinkedHashMap<>();
        if (headers != null) {
            for (String h : headers) {
                int eq = h.indexOf('=');
                if (eq <= 0) {
                    System.err.println("header must be name=value (was " + h + ")");
                    return 2;
                }
                parsed.put(h.substring(0, eq), h.substring(eq + 1));
            }
        }
        OutboxEvent event =
                OutboxEvent.builder(routingKey).payload(json).headers(parsed).build();
        RelayConfig config = RelayConfig.fromEnv();
        try (Broker broker = Broker.connect(config.brokerConfig("cli"));
                Publisher publisher = new Publisher(broker)) {
            System.out.println(publisher.send(event));
        }
        return 0;
    }
}
