package dev.outbox.sdk.wire;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.LongString;
import dev.outbox.sdk.Headers;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns AMQP header values (LongString, nested tables, dates) into plain Java values. Shared plumbing. */
public final class AmqpValues {

    private AmqpValues() {
    }

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
        putIfSet(out, "timestamp", props.getTimestamp() == null ? null : props.getTimestamp().toInstant());
        putIfSet(out, "content-type", props.getContentType());
        putIfSet(out, "correlation-id", props.getCorrelationId());
        // After a retry the message comes back through the default exchange: report where it was first published.
        Object originalKey = own.get(Headers.ORIGINAL_ROUTING_KEY);
        Object originalExchange = own.get(Headers.ORIGINAL_EXCHANGE);
        out.put("routing-key", originalKey != null ? originalKey : envelope.getRoutingKey());
        out.put("exchange", originalExchange != null ? originalExchange : envelope.getExchange());
        out.put("redelivered", envelope.isRedeliver());
        own.forEach(out::putIfAbsent);
        return out;
    }

    public static int intHeader(Map<String, Object> headers, String name) {
        Object v = headers.get(name);
        if (v instanceof Number n) {
            return n.intValue();
        }
        if (v != null) {
            try {
                return Integer.parseInt(v.toString().trim());
            } catch (NumberFormatException ignored) {
                return 0;
            }
        }
        return 0;
    }

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
