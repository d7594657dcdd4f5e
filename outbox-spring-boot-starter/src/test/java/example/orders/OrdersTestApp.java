package example.orders;

import dev.outbox.spring.OutboxListener;
import dev.outbox.spring.OutboxPublisher;

import dev.outbox.sdk.RetryException;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** A small application as a user writes it, in a package of its own: a service that saves and publishes, and listeners. */
@SpringBootApplication
public class OrdersTestApp {

    public record Order(String id, String customer, int cents) {}

    /** Received orders, with the trace id current in the handler. */
    public record Received(Order order, String traceId) {}

    @Bean
    InMemorySpanExporter spans() {
        return InMemorySpanExporter.create();
    }

    @Bean(destroyMethod = "close")
    OpenTelemetrySdk openTelemetry(InMemorySpanExporter spans) {
        return OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder()
                        .addSpanProcessor(SimpleSpanProcessor.create(spans))
                        .build())
                .build();
    }

    @Service
    public static class Orders {
        private final JdbcTemplate jdbc;
        private final OutboxPublisher outbox;

        Orders(JdbcTemplate jdbc, OutboxPublisher outbox) {
            this.jdbc = jdbc;
            this.outbox = outbox;
        }

        @Transactional
        public void place(Order order, String routingKey) {
            jdbc.update(
                    "INSERT INTO orders (id, customer, cents) VALUES (?, ?, ?)",
                    order.id(),
                    order.customer(),
                    order.cents());
            outbox.publish(routingKey, order);
        }

        @Transactional
        public void placeThenFail(Order order, String routingKey) {
            place(order, routingKey);
            throw new IllegalStateException("payment declined");
        }
    }

    @Component
    public static class Billing {
        public final List<Received> received = new CopyOnWriteArrayList<>();
        public final List<String> attempts = new CopyOnWriteArrayList<>();

        @OutboxListener(patterns = "${test.exchange}.created", queue = "${test.queue}", backoff = "100ms")
        public void bill(Map<String, Object> headers, Order order) {
            attempts.add(order.id());
            if (order.customer().equals("flaky")
                    && attempts.stream().filter(order.id()::equals).count() == 1) {
                throw new RetryException("card service busy", Duration.ofMillis(100));
            }
            if (order.customer().equals("poison")) {
                throw new IllegalArgumentException("customer 'poison' cannot be billed");
            }
            received.add(new Received(
                    order,
                    io.opentelemetry.api.trace.Span.current().getSpanContext().getTraceId()));
        }

        @OutboxListener(patterns = "${test.exchange}.created", queue = "${test.queue}_ledger")
        public void record(Map<String, Object> headers, com.fasterxml.jackson.databind.JsonNode body, Connection connection)
                throws Exception {
            try (PreparedStatement ps = connection.prepareStatement("INSERT INTO ledger (order_id) VALUES (?)")) {
                ps.setString(1, body.get("id").asText());
                ps.executeUpdate();
            }
        }
    }
}
