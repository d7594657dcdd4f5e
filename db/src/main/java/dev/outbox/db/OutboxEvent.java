package dev.outbox.db;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * One event to append to the outbox: a routing key, a JSON payload and optional headers and
 * aggregate. Immutable and validated when built, so a bad event never reaches the database.
 *
 * <pre>{@code
 * OutboxEvent event = OutboxEvent.builder("order.created")
 *         .payload(order)                  // JsonNode, JSON text, or any object Jackson serialises
 *         .header("tenant", "acme")
 *         .aggregate("order", order.id())
 *         .correlationId(requestId)
 *         .build();
 * }</pre>
 *
 * @param messageId     the AMQP message id, or {@code null} to let the database generate one
 * @param routingKey    validated by {@link RoutingKey#validate}
 * @param payloadJson   the payload as JSON text (never JSON {@code null})
 * @param headers       string to string; copied into the AMQP headers
 * @param aggregateType what the event is about, or {@code null}
 * @param aggregateId   which one, or {@code null}
 */
public record OutboxEvent(UUID messageId, String routingKey, String payloadJson, Map<String, String> headers,
                          String aggregateType, String aggregateId) {

    /** Header carrying {@link Builder#correlationId}. */
    public static final String CORRELATION_ID_HEADER = "correlation-id";

    public OutboxEvent {
        RoutingKey.validate(routingKey);
        Objects.requireNonNull(payloadJson, "payloadJson");
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(validHeaders(headers)));
    }

    /** An event with this routing key and payload, and nothing else. */
    public static OutboxEvent of(String routingKey, Object payload) {
        return builder(routingKey).payload(payload).build();
    }

    public static Builder builder(String routingKey) {
        return new Builder(routingKey);
    }

    private static Map<String, String> validHeaders(Map<?, ?> headers) {
        if (headers == null) {
            return Map.of();
        }
        Map<String, String> valid = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : headers.entrySet()) {
            if (!(e.getKey() instanceof String name) || name.isBlank()) {
                throw new InvalidEventException("header names must be non-blank strings (was " + e.getKey() + ")");
            }
            if (name.regionMatches(true, 0, "x-", 0, 2)) {
                throw new InvalidEventException("header '" + name + "' starts with x-, which RabbitMQ reserves"
                        + " for the broker; choose a name without that prefix");
            }
            if (!(e.getValue() instanceof String value)) {
                String type = e.getValue() == null ? "null" : e.getValue().getClass().getSimpleName();
                throw new InvalidEventException("header '" + name + "' must have a string value (was " + type + ")");
            }
            valid.put(name, value);
        }
        return valid;
    }

    /** Builds an {@link OutboxEvent}; every setter validates at once. */
    public static final class Builder {
        private final String routingKey;
        private UUID messageId;
        private String payloadJson;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private String aggregateType;
        private String aggregateId;

        private Builder(String routingKey) {
            this.routingKey = RoutingKey.validate(routingKey);
        }

        /** A {@code JsonNode}, JSON text (a {@code String} is parsed and must be valid JSON), or any object Jackson serialises. */
        public Builder payload(Object payload) {
            return payload(payload, Json.DEFAULT_MAPPER);
        }

        /** As {@link #payload(Object)}, serialising with the caller's own mapper (modules, naming strategy). */
        public Builder payload(Object payload, ObjectMapper mapper) {
            this.payloadJson = Json.toJsonText(payload, mapper);
            return this;
        }

        /** Fixes the message id (the consumers' dedupe key) instead of letting the database generate one. */
        public Builder messageId(UUID messageId) {
            this.messageId = messageId;
            return this;
        }

        public Builder header(String name, String value) {
            headers.putAll(validHeaders(Collections.singletonMap(name, value)));
            return this;
        }

        /** Adds every entry; each must be a string to string pair. */
        public Builder headers(Map<String, ?> more) {
            headers.putAll(validHeaders(more));
            return this;
        }

        public Builder aggregate(String type, Object id) {
            this.aggregateType = Objects.requireNonNull(type, "aggregate type");
            this.aggregateId = id == null ? null : id.toString();
            return this;
        }

        /** Sent as header {@value #CORRELATION_ID_HEADER}. */
        public Builder correlationId(String correlationId) {
            return header(CORRELATION_ID_HEADER, correlationId);
        }

        public OutboxEvent build() {
            if (payloadJson == null) {
                throw new InvalidEventException("payload is required for routing key '" + routingKey
                        + "'; send an empty object {} for an event without data");
            }
            return new OutboxEvent(messageId, routingKey, payloadJson, headers, aggregateType, aggregateId);
        }
    }
}
