package dev.outbox.protocol;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * {@link EventTracing} on the OpenTelemetry API. The context is always written and read in the
 * W3C format, whatever propagators the application configured, because that is what the
 * {@code traceparent} header of the wire format promises every consumer.
 */
public final class OpenTelemetryTracing implements EventTracing {

    private static final String INSTRUMENTATION = "dev.outbox";
    private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
    private static final TextMapGetter<Map<String, Object>> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, Object> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, Object> carrier, String key) {
            Object value = carrier == null ? null : carrier.get(key);
            return value == null ? null : value.toString(); // AMQP hands strings over as LongString
        }
    };

    private final OpenTelemetry openTelemetry; // null: GlobalOpenTelemetry, looked up when a span starts

    private OpenTelemetryTracing(OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
    }

    /** Spans from {@code openTelemetry}, e.g. the application's {@code OpenTelemetry} bean. */
    public static OpenTelemetryTracing of(OpenTelemetry openTelemetry) {
        return new OpenTelemetryTracing(Objects.requireNonNull(openTelemetry, "openTelemetry"));
    }

    /** Spans from {@link GlobalOpenTelemetry}: the agent's, or the SDK the application registered. */
    public static OpenTelemetryTracing global() {
        return new OpenTelemetryTracing(null);
    }

    @Override
    public Map<String, String> currentContext() {
        if (!Span.current().getSpanContext().isValid()) {
            return Map.of();
        }
        Map<String, String> headers = new LinkedHashMap<>(2);
        W3C.inject(Context.current(), headers, Map::put);
        return headers;
    }

    @Override
    public HandlerSpan startHandlerSpan(String queue, String routingKey, Map<String, Object> headers) {
        Context parent = W3C.extract(Context.root(), headers, HEADERS);
        Tracer tracer = (openTelemetry != null ? openTelemetry : GlobalOpenTelemetry.get()).getTracer(INSTRUMENTATION);
        Span span = tracer.spanBuilder(queue + " process")
                .setParent(parent)
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute("messaging.system", "rabbitmq")
                .setAttribute("messaging.operation.type", "process")
                .setAttribute("messaging.destination.name", queue)
                .setAttribute("messaging.rabbitmq.destination.routing_key", routingKey == null ? "" : routingKey)
                .setAttribute("messaging.message.id", String.valueOf(headers.get("message-id")))
                .startSpan();
        Scope scope = span.makeCurrent();
        return new HandlerSpan() {
            @Override
            public void failed(Throwable failure) {
                span.recordException(failure);
                span.setStatus(StatusCode.ERROR, failure.getClass().getName());
            }

            @Override
            public void close() {
                scope.close();
                span.end();
            }
        };
    }

    @Override
    public String toString() {
        return openTelemetry == null ? "OpenTelemetryTracing(global)" : "OpenTelemetryTracing(" + openTelemetry + ")";
    }
}
