package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Outbox;
import dev.outbox.protocol.OpenTelemetryTracing;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Publisher;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriptionOptions;
import dev.outbox.testing.RabbitFixture;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One trace from the writer's span, through the real relay, to the handler's span. */
class TracingIT {

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .build();
    private RelayWorld world;

    @BeforeEach
    void world() {
        world = RelayWorld.create("tracing", "traced");
    }

    @AfterEach
    void close() {
        world.close();
        otel.close();
    }

    @Test
    void theHandlerSpanContinuesTheTraceOfTheSpanThatWroteTheEventThroughTheRelay() throws Exception {
        Map<String, String> handlerTraces = new ConcurrentHashMap<>();
        String queue = world.rabbit().queue("traced_orders");
        try (RelayHarness relay = RelayHarness.start(world.env()).awaitReady();
                Broker broker =
                        Broker.connect(BrokerConfig.of(RabbitFixture.get().uri()));
                Subscriber subscriber = new Subscriber(
                        broker,
                        world.exchange() + ".#",
                        SubscriptionOptions.queue(queue).tracing(OpenTelemetryTracing.of(otel)),
                        "traced")) {
            subscriber.start((headers, body) -> handlerTraces.put(
                    body.get("via").asText(), Span.current().getSpanContext().getTraceId()));

            Outbox outbox = new Outbox().withTracing(OpenTelemetryTracing.of(otel));
            Span writer = otel.getTracer("test").spanBuilder("POST /orders").startSpan();
            try (Scope ignored = writer.makeCurrent()) {
                outbox.inTransaction(
                        world.db().dataSource(),
                        c -> outbox.append(c, world.exchange() + ".created", "{\"via\": \"outbox\"}"));
            } finally {
                writer.end();
            }
            Span sender = otel.getTracer("test").spanBuilder("nightly job").startSpan();
            try (Scope ignored = sender.makeCurrent();
                    Publisher publisher = new Publisher(broker, OpenTelemetryTracing.of(otel))) {
                publisher.send(OutboxEvent.of(world.exchange() + ".sent", "{\"via\": \"publisher\"}"));
            } finally {
                sender.end();
            }

            await().atMost(Duration.ofSeconds(30)).until(() -> handlerTraces.size() == 2);
            assertThat(handlerTraces)
                    .containsEntry("outbox", writer.getSpanContext().getTraceId())
                    .containsEntry("publisher", sender.getSpanContext().getTraceId());
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> spans.getFinishedSpanItems().stream()
                                    .filter(s -> s.getName().equals(queue + " process"))
                                    .count()
                            == 2);
            SpanData fromOutbox = spans.getFinishedSpanItems().stream()
                    .filter(s -> s.getName().equals(queue + " process")
                            && s.getTraceId().equals(writer.getSpanContext().getTraceId()))
                    .findFirst()
                    .orElseThrow();
            assertThat(fromOutbox.getParentSpanId())
                    .isEqualTo(writer.getSpanContext().getSpanId());
        }
    }
}
