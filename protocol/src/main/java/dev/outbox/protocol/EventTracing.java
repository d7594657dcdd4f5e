package dev.outbox.protocol;

import java.util.Map;

/**
 * W3C trace context carried by events: the writer and the publisher put the current span's
 * {@code traceparent} and {@code tracestate} into an event's headers, the relay passes them
 * through as AMQP headers, and the subscriber runs the handler in a consumer span that
 * continues that trace.
 *
 * <p>{@link #detect()} gives the OpenTelemetry implementation when the application has the
 * OpenTelemetry API on its class path (it then follows whatever SDK, agent or Micrometer
 * Tracing bridge the application installed), and {@link #NONE} otherwise, which costs nothing
 * and loads no tracing class.
 */
public interface EventTracing {

    /** Header of the W3C trace context: version, trace id, parent span id, flags. */
    String TRACEPARENT = "traceparent";
    /** Header of vendor-specific trace state that goes with {@link #TRACEPARENT}. */
    String TRACESTATE = "tracestate";

    /** No tracing: no headers added, handlers run without a span. */
    EventTracing NONE = new EventTracing() {
        @Override
        public Map<String, String> currentContext() {
            return Map.of();
        }

        @Override
        public HandlerSpan startHandlerSpan(String queue, String routingKey, Map<String, Object> headers) {
            return HandlerSpan.NONE;
        }

        @Override
        public String toString() {
            return "EventTracing.NONE";
        }
    };

    /**
     * The current span's context as W3C headers ({@code traceparent}, and {@code tracestate}
     * when there is any), or an empty map outside a span.
     */
    Map<String, String> currentContext();

    /**
     * Starts the consumer span of one handler call, child of the trace context in
     * {@code headers} (a new trace when they carry none), and makes it current until
     * {@link HandlerSpan#close()}.
     */
    HandlerSpan startHandlerSpan(String queue, String routingKey, Map<String, Object> headers);

    /** The span of one handler call: close it on the handler's thread when the handler returns or throws. */
    interface HandlerSpan extends AutoCloseable {

        HandlerSpan NONE = new HandlerSpan() {
            @Override
            public void failed(Throwable failure) {}

            @Override
            public void close() {}
        };

        /** Records that the handler threw {@code failure}. */
        void failed(Throwable failure);

        @Override
        void close();
    }

    /**
     * OpenTelemetry through {@code GlobalOpenTelemetry} when its API is on the class path,
     * otherwise {@link #NONE}.
     */
    static EventTracing detect() {
        try {
            Class.forName("io.opentelemetry.api.GlobalOpenTelemetry", false, EventTracing.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError absent) {
            return NONE;
        }
        return OpenTelemetryTracing.global();
    }

    /**
     * {@code event} with the current trace context in its headers; the event as it is when there
     * is no current span, when it carries a {@code traceparent} already (an event forwarded with
     * its own context keeps it), or when its headers have no room left for the context.
     */
    default OutboxEvent traced(OutboxEvent event) {
        if (event.headers().containsKey(TRACEPARENT)) {
            return event;
        }
        Map<String, String> context = currentContext();
        if (context.isEmpty()) {
            return event;
        }
        Map<String, String> headers = new java.util.LinkedHashMap<>(event.headers());
        headers.putAll(context);
        try {
            return new OutboxEvent(
                    event.messageId(),
                    event.routingKey(),
                    event.payloadJson(),
                    headers,
                    event.aggregateType(),
                    event.aggregateId());
        } catch (InvalidEventException headersFull) {
            return event; // untraced rather than refused: the event matters more than its trace
        }
    }
}
