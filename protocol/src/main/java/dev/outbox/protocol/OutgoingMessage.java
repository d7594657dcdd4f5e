package dev.outbox.protocol;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One event as it goes on the wire, built by the relay from an {@code events} row and by the
 * {@code Publisher} from a direct send, so both produce exactly the same message.
 *
 * @param messageId     AMQP {@code message-id}
 * @param routingKey    the event's routing key; its first segment is the exchange
 * @param body          the payload JSON, UTF-8, sent as it is
 * @param headers       the event's own string headers
 * @param eventId       the {@code events} row id, or {@code null} for a direct publish
 * @param aggregateType what the event is about, or {@code null}
 * @param aggregateId   which one, or {@code null}
 * @param createdAt     when the event was written
 */
public record OutgoingMessage(
        String messageId,
        String routingKey,
        byte[] body,
        Map<String, String> headers,
        Long eventId,
        String aggregateType,
        String aggregateId,
        Instant createdAt) {

    public OutgoingMessage {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(routingKey, "routingKey");
        Objects.requireNonNull(body, "body");
        headers = headers == null ? Map.of() : headers;
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** The exchange this message goes to: the routing key's first segment. */
    public String exchange() {
        int dot = routingKey.indexOf('.');
        return dot < 0 ? routingKey : routingKey.substring(0, dot);
    }

    /** How to name this message in a log line or an error: never its body. */
    public String describe() {
        return (eventId == null ? "message " + messageId : "event " + eventId) + " (routing key '" + routingKey + "')";
    }
}
