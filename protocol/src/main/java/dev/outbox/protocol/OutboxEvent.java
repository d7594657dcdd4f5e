package dev.outbox.protocol;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
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
public record OutboxEvent(
        UUID messageId,
        String routingKey,
        String payloadJson,
        Map<String, String> headers,
        String aggregateType,
        String aggregateId) {

    /** Header carrying {@link Builder#correlationId}. */
    public static final String CORRELATION_ID_HEADER = "correlation-id";

    /**
     * Header names the relay and the SDK write themselves and act on (retries, dead letters,
     * replay targets): an event cannot carry them, or a producer could steer where its message
     * is retried, dead-lettered or replayed to. The {@code events} table refuses them too
     * (constraint {@code headers_names_at_most_255_bytes_and_not_reserved}).
     */
    public static final Set<String> RESERVED_HEADERS = Set.of(
            "event-id",
            "created-at",
            "aggregate-type",
            "aggregate-id",
            "retry-count",
            "dead-letter-reason",
            "dead-letter-queue",
            "dead-letter-id",
            "dead-lettered-at",
            "replay-count",
            "error",
            "original-exchange",
            "original-routing-key",
            "body-omitted-bytes");
    /** AMQP carries header names as short strings. */
    public static final int MAX_HEADER_NAME_BYTES = 255;
    /** All of an event's header names and values together: well inside one AMQP frame (128 KiB by default). */
    public static final int MAX_HEADERS_BYTES = 65_536;
    /** Each of aggregate type and id (both together stay under PostgreSQL's limit for their index). */
    public static final int MAX_AGGREGATE_BYTES = 1_000;
    /**
     * The payload as JSON text: the relay's heap is sized for payloads up to this, and it is
     * RabbitMQ 4's default {@code max_message_size}. The table refuses larger ones too (constraint
     * {@code payload_at_most_16_mib}, which measures PostgreSQL's own rendering of the JSON).
     */
    public static final int MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

    public OutboxEvent {
        RoutingKey.validate(routingKey);
        Objects.requireNonNull(payloadJson, "payloadJson");
        // A char is at most 3 bytes of UTF-8: only a payload of more than a third of the limit needs counting.
        if (payloadJson.length() > MAX_PAYLOAD_BYTES / 3 && utf8Length(payloadJson) > MAX_PAYLOAD_BYTES) {
            throw new InvalidEventException("the payload of the event for '" + routingKey + "' is "
                    + utf8Length(payloadJson) + " bytes of JSON, more than " + MAX_PAYLOAD_BYTES
                    + " (16 MiB): store large data elsewhere and put a reference in the payload");
        }
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(validHeaders(headers)));
        long total = 0;
        for (Map.Entry<String, String> h : headers.entrySet()) {
            total += utf8(h.getKey()) + utf8(h.getValue());
        }
        if (total > MAX_HEADERS_BYTES) {
            throw new InvalidEventException("the headers of the event for '" + routingKey + "' take " + total
                    + " bytes, more than " + MAX_HEADERS_BYTES + ": put large data in the payload");
        }
        checkAggregate("aggregate type", aggregateType);
        checkAggregate("aggregate id", aggregateId);
    }

    private static void checkAggregate(String what, String value) {
        if (value != null && utf8(value) > MAX_AGGREGATE_BYTES) {
            throw new InvalidEventException(what + " of " + utf8(value) + " bytes is longer than " + MAX_AGGREGATE_BYTES
                    + " bytes (starting '" + value.substring(0, 40) + "...')");
        }
    }

    private static long utf8Length(String s) {
        long bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private static int utf8(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
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
            if (utf8(name) > MAX_HEADER_NAME_BYTES) {
                throw new InvalidEventException("header name of " + utf8(name) + " bytes is longer than AMQP allows ("
                        + MAX_HEADER_NAME_BYTES + "), starting '" + name.substring(0, 40) + "...'");
            }
            if (RESERVED_HEADERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                throw new InvalidEventException(
                        "header '" + name + "' is reserved: the relay and the SDK set it themselves"
                                + (name.startsWith("aggregate-") ? " (use aggregate(type, id))" : "")
                                + "; choose another name");
            }
            if (!(e.getValue() instanceof String value)) {
                String type =
                        e.getValue() == null ? "null" : e.getValue().getClass().getSimpleName();
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
