package dev.outbox.relay.publish;

import com.rabbitmq.client.AMQP;
import dev.outbox.protocol.DeadLetterReason;
import dev.outbox.protocol.Headers;
import java.util.HashMap;
import java.util.Map;

/**
 * What fits in one AMQP message, checked before it is published, and the {@code relay_error}
 * copy of a message that does not: a copy built to fit whatever the original held.
 *
 * <p>AMQP 0-9-1 carries header names, the message id and the routing key as short strings
 * (at most 255 bytes), and all properties in one content-header frame (at most the
 * connection's {@code frame_max}). The client refuses a message that breaks either with an
 * {@link IllegalArgumentException}, after it has counted the message's publish sequence
 * number: a refusal found here costs nothing, one found by the client costs the channel.
 */
final class AmqpLimits {

    static final int SHORT_STRING_BYTES = 255;
    /** Room kept in the content-header frame for the properties other than headers. */
    private static final int FRAME_RESERVE = 1024;
    /** At most this many characters of an error, a routing key or an aggregate in a relay_error copy's headers. */
    private static final int COPY_TEXT_CHARS = 1000;

    private AmqpLimits() {}

    /** Why {@code props} cannot go in one message on a connection with {@code frameMax}, or {@code null}. */
    static String refusal(AMQP.BasicProperties props, int frameMax) {
        Map<String, Object> headers = props.getHeaders();
        if (headers == null) {
            return null;
        }
        long bytes = 0;
        for (Map.Entry<String, Object> h : headers.entrySet()) {
            int name = utf8Length(h.getKey());
            if (name > SHORT_STRING_BYTES) {
                return "header name of " + name + " bytes (AMQP allows at most " + SHORT_STRING_BYTES + "), starting '"
                        + h.getKey().substring(0, 40) + "...'";
            }
            bytes += 1 + name + 1 + 4 + (h.getValue() instanceof String s ? utf8Length(s) : 16);
        }
        if (frameMax > 0 && bytes > frameMax - FRAME_RESERVE) {
            return "headers of " + bytes + " bytes (aggregate type and id included) do not fit in one AMQP frame of "
                    + frameMax + " bytes (the broker's frame_max)";
        }
        return null;
    }

    /**
     * The headers of the {@code relay_error} copy of a message: the reason, the error, where
     * it was going, and its own headers only when all of them fit in half a frame. Every text
     * is cut to a bounded length, so the copy fits whatever the original held.
     */
    static Map<String, Object> relayErrorHeaders(
            AMQP.BasicProperties original, String error, String exchange, String routingKey, int frameMax) {
        Map<String, Object> own = original.getHeaders() == null ? Map.of() : original.getHeaders();
        Map<String, Object> headers = new HashMap<>();
        String note = "";
        long ownBytes = 0;
        boolean namesFit = true;
        for (Map.Entry<String, Object> h : own.entrySet()) {
            namesFit &= utf8Length(h.getKey()) <= SHORT_STRING_BYTES;
            ownBytes += h.getKey().length() * 3L + (h.getValue() instanceof String s ? s.length() * 3L : 16) + 6;
        }
        int budget = (frameMax > 0 ? frameMax : 131_072) / 2;
        if (namesFit && ownBytes <= budget) {
            headers.putAll(own);
        } else {
            note = " (its " + own.size() + " headers were not kept: too large for one AMQP frame)";
            copy(own, headers, Headers.EVENT_ID);
            copy(own, headers, Headers.CREATED_AT);
            copyCut(own, headers, Headers.AGGREGATE_TYPE);
            copyCut(own, headers, Headers.AGGREGATE_ID);
        }
        headers.put(Headers.DEAD_LETTER_REASON, ConfirmingPublisher.RELAY_ERROR);
        headers.put(Headers.ERROR, cut(error + note));
        headers.put(Headers.ORIGINAL_EXCHANGE, cut(exchange));
        headers.put(Headers.ORIGINAL_ROUTING_KEY, cut(routingKey));
        return headers;
    }

    /** The routing key the copy is published with: the original when it is a valid short string. */
    static String copyRoutingKey(String routingKey) {
        return utf8Length(routingKey) <= SHORT_STRING_BYTES ? routingKey : DeadLetterReason.RELAY_ERROR;
    }

    /** The message id when it is a valid short string, else {@code null} (the header {@code error} says so). */
    static String shortString(String value) {
        return value == null || utf8Length(value) <= SHORT_STRING_BYTES ? value : null;
    }

    private static void copy(Map<String, Object> from, Map<String, Object> to, String name) {
        if (from.get(name) != null) {
            to.put(name, from.get(name));
        }
    }

    private static void copyCut(Map<String, Object> from, Map<String, Object> to, String name) {
        if (from.get(name) != null) {
            to.put(name, cut(from.get(name).toString()));
        }
    }

    static String cut(String s) {
        return s == null || s.length() <= COPY_TEXT_CHARS ? s : s.substring(0, COPY_TEXT_CHARS) + "...";
    }

    /** UTF-8 length without encoding: this runs for every header of every message. */
    static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
        }
        return bytes;
    }
}
