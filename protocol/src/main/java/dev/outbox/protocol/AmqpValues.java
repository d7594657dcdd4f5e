package dev.outbox.protocol;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.LongString;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns AMQP header values (LongString, nested tables, dates) into plain Java values. Shared plumbing. */
public final class AmqpValues {

    private AmqpValues() {}

    public static Object plain(Object value) {
        if (value instanceof LongString s) {
            return s.toString();
        }
        if (value instanceof byte[] bytes) {
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        }
        if (value instanceof Date d) {
            return d.toInstant();
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(plain(v)));
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), plain(v)));
            return out;
        }
        return value;
    }

    public static Map<String, Object> headers(AMQP.BasicProperties props) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (props.getHeaders() != null) {
            props.getHeaders().forEach((k, v) -> out.put(k, plain(v)));
        }
        return out;
    }

    /** What a handler sees: the AMQP properties under their names, then the message's own headers. */
    public static Map<String, Object> handlerHeaders(Envelope envelope, AMQP.BasicProperties props) {
        Map<String, Object> own = headers(props);
        Map<String, Object> out = new LinkedHashMap<>();
        putIfSet(out, "message-id", props.getMessageId());
        putIfSet(out, "app-id", props.getAppId());
        putIfSet(
                out,
                "timestamp",
                props.getTimestamp() == null ? null : props.getTimestamp().toInstant());
        putIfSet(out, "content-type", props.getContentType());
        putIfSet(out, "correlation-id", props.getCorrelationId());
        // After a retry the message comes back through the default exchange: report where it was first published.
        Origin origin = origin(envelope, own);
        out.put("routing-key", origin.routingKey());
        out.put("exchange", origin.exchange());
        out.put("redelivered", envelope.isRedeliver());
        own.forEach(out::putIfAbsent);
        return out;
    }

    /** Counts the SDK keeps in headers ({@code retry-count}, {@code replay-count}) are at most this. */
    public static final int MAX_COUNT = 1_000_000;

    /**
     * A count the SDK wrote ({@code retry-count}, {@code replay-count}): a whole number 0 ..
     * {@link #MAX_COUNT}. Anything else (negative, fractional, huge, not a number) was not
     * written by the SDK and is not trusted: it reads as 0.
     */
    public static int countHeader(Map<String, Object> headers, String name) {
        return count(headers.get(name));
    }

    /** As {@link #countHeader}, for the value itself (a header value, or one read back from stored JSON). */
    public static int count(Object v) {
        long n;
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            n = ((Number) v).longValue();
        } else if (v != null && !(v instanceof Number)) {
            try {
                n = Long.parseLong(v.toString().trim());
            } catch (NumberFormatException ignored) {
                return 0;
            }
        } else {
            return 0;
        }
        return n < 0 || n > MAX_COUNT ? 0 : (int) n;
    }

    /**
     * Where a delivery was first published. Only a message that came through the default
     * exchange (a retry hop, a replay to its queue) carries it in {@code original-exchange} and
     * {@code original-routing-key}; for any other, the broker's envelope is the truth and such
     * headers, which any publisher can set, are ignored.
     */
    public static Origin origin(Envelope envelope, Map<String, Object> headers) {
        if (envelope.getExchange() == null || envelope.getExchange().isEmpty()) {
            Object exchange = headers.get(Headers.ORIGINAL_EXCHANGE);
            Object key = headers.get(Headers.ORIGINAL_ROUTING_KEY);
            if (exchange != null && key != null) {
                return new Origin(exchange.toString(), key.toString());
            }
        }
        return new Origin(envelope.getExchange(), envelope.getRoutingKey());
    }

    /** Where a message was first published. */
    public record Origin(String exchange, String routingKey) {}

    /** As {@link #plain}, with instants as ISO-8601 text: for storing headers as JSON. */
    public static Object jsonSafe(Object value) {
        Object plain = plain(value);
        if (plain instanceof java.time.Instant i) {
            return i.toString();
        }
        if (plain instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(jsonSafe(v)));
            return out;
        }
        if (plain instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), jsonSafe(v)));
            return out;
        }
        return plain;
    }

    private static void putIfSet(Map<String, Object> map, String key, Object value) {
        if (value != null) {
            map.put(key, value);
        }
    }
}
