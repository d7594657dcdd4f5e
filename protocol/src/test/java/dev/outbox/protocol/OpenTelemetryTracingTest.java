package dev.outbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OpenTelemetryTracingTest {

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .build();
    private final EventTracing tracing = OpenTelemetryTracing.of(otel);

    @AfterEach
    void close() {
        otel.close();
    }

    @Test
    void anEventWrittenInsideASpanCarriesItsW3cContext() {
        Span writer = otel.getTracer("test").spanBuilder("checkout").startSpan();
        OutboxEvent traced;
        try (Scope ignored = writer.makeCurrent()) {
            traced = tracing.traced(OutboxEvent.of("order.created", "{}"));
        } finally {
            writer.end();
        }
        assertThat(traced.headers().get(EventTracing.TRACEPARENT))
                .isEqualTo("00-" + writer.getSpanContext().getTraceId() + "-"
                        + writer.getSpanContext().getSpanId() + "-"
                        + writer.getSpanContext().getTraceFlags().asHex());
    }

    @Test
    void outsideASpanAnEventIsLeftAsItIs() {
        OutboxEvent event = OutboxEvent.of("order.created", "{}");
        assertThat(tracing.traced(event)).isSameAs(event);
    }

    @Test
    void anEventThatCarriesItsOwnTraceparentKeepsIt() {
        OutboxEvent forwarded = OutboxEvent.builder("order.created")
                .payload("{}")
                .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                .build();
        Span other = otel.getTracer("test").spanBuilder("other").startSpan();
        try (Scope ignored = other.makeCurrent()) {
            assertThat(tracing.traced(forwarded)).isSameAs(forwarded);
        } finally {
            other.end();
        }
    }

    @Test
    void anEventWhoseHeadersAreFullGoesUntracedRatherThanRefused() {
        OutboxEvent full = OutboxEvent.builder("order.created")
                .payload("{}")
                .header("big", "x".repeat(OutboxEvent.MAX_HEADERS_BYTES - 3 - 20))
                .build();
        Span writer = otel.getTracer("test").spanBuilder("checkout").startSpan();
        try (Scope ignored = writer.makeCurrent()) {
            assertThat(tracing.traced(full)).isSameAs(full);
        } finally {
            writer.end();
        }
    }

    @Test
    void theHandlerSpanContinuesTheTraceOfTheMessagesTraceparent() {
        Map<String, Object> headers = new HashMap<>();
        headers.put("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        headers.put("message-id", "m-1");
        String currentInHandler;
        try (EventTracing.HandlerSpan span = tracing.startHandlerSpan("billing_orders", "order.created", headers)) {
            currentInHandler = Span.current().getSpanContext().getTraceId();
        }
        SpanData handler = spans.getFinishedSpanItems().get(0);
        assertThat(handler.getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
        assertThat(handler.getParentSpanId()).isEqualTo("b7ad6b7169203331");
        assertThat(handler.getKind()).isEqualTo(SpanKind.CONSUMER);
        assertThat(handler.getName()).isEqualTo("billing_orders process");
        assertThat(currentInHandler).isEqualTo(handler.getTraceId());
        assertThat(Span.current().getSpanContext().isValid())
                .as("no span current after close")
                .isFalse();
    }

    @Test
    void aHandlerFailureMarksItsSpan() {
        try (EventTracing.HandlerSpan span = tracing.startHandlerSpan("q", "a.b", Map.of())) {
            span.failed(new IllegalStateException("boom"));
        }
        SpanData handler = spans.getFinishedSpanItems().get(0);
        assertThat(handler.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(handler.getEvents()).anySatisfy(e -> assertThat(e.getName()).isEqualTo("exception"));
    }

    @Test
    void aMalformedTraceparentStartsANewTraceInsteadOfFailingTheMessage() {
        Map<String, Object> headers = Map.of("traceparent", "00-not-a-trace-context");
        try (EventTracing.HandlerSpan span = tracing.startHandlerSpan("q", "a.b", headers)) {
            // handled as any other message
        }
        SpanData handler = spans.getFinishedSpanItems().get(0);
        assertThat(handler.getTraceId()).hasSize(32).isNotEqualTo("0".repeat(32));
        assertThat(handler.getParentSpanContext().isValid()).isFalse();
    }
}
