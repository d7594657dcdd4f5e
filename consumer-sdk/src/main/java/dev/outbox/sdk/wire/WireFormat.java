package dev.outbox.sdk.wire;

import com.rabbitmq.client.AMQP;
import dev.outbox.sdk.Headers;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds the AMQP properties of an event message (DESIGN.md section 3): persistent,
 * {@code application/json}, message id, app id, timestamp, the event's headers plus
 * {@code event-id}, {@code created-at}, {@code aggregate-type} and {@code aggregate-id}.
 * The one place that does so; the relay and the {@code Publisher} both call it.
 */
public final class WireFormat {

    public static final String CONTENT_TYPE = "application/json";
    public static final int PERSISTENT = 2;
    private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_INSTANT.withZone(ZoneOffset.UTC);

    private WireFormat() {
    }

    public static AMQP.BasicProperties properties(OutgoingMessage message, String appId) {
        Map<String, Object> headers = new HashMap<>(message.headers().size() + 4);
        headers.putAll(message.headers());
        if (message.eventId() != null) {
            headers.put(Headers.EVENT_ID, Long.toString(message.eventId()));
        }
        headers.put(Headers.CREATED_AT, ISO.format(message.createdAt()));
        if (message.aggregateType() != null) {
            headers.put(Headers.AGGREGATE_TYPE, message.aggregateType());
        }
        if (message.aggregateId() != null) {
            headers.put(Headers.AGGREGATE_ID, message.aggregateId());
        }
        return new AMQP.BasicProperties.Builder()
                .deliveryMode(PERSISTENT)
                .contentType(CONTENT_TYPE)
                .messageId(message.messageId())
                .appId(appId)
                .timestamp(Date.from(message.createdAt()))
                .headers(headers)
                .build();
    }

    /** ISO-8601 text of an instant, as in the {@code created-at} header. */
    public static String isoInstant(Instant instant) {
        return ISO.format(instant);
    }
}
