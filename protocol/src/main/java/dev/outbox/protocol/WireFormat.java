package dev.outbox.protocol;

import com.rabbitmq.client.AMQP;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds the AMQP properties of an event message (docs/design.md section 3): persistent,
 * {@code application/json}, message id, app id, timestamp, the event's headers plus
 * {@code event-id}, {@code created-at}, {@code aggregate-type} and {@code aggregate-id}.
 * The one place that does so; the relay and the {@code Publisher} both call it.
 */
public final class WireFormat {

    public static final String CONTENT_TYPE = "application/json";
    public static final int PERSISTENT = 2;
    private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_INSTANT.withZone(ZoneOffset.UTC);
    /** The instants {@link #isoInstant} writes by hand: years 1 to 9999, four digits, no sign. */
    private static final long FIRST_FAST_SECOND =
            LocalDateTime.of(1, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);

    private static final long LAST_FAST_SECOND =
            LocalDateTime.of(9999, 12, 31, 23, 59, 59).toEpochSecond(ZoneOffset.UTC);

    private WireFormat() {}

    public static AMQP.BasicProperties properties(OutgoingMessage message, String appId) {
        Map<String, Object> headers = new HashMap<>(message.headers().size() + 4);
        headers.putAll(message.headers());
        if (message.eventId() != null) {
            headers.put(Headers.EVENT_ID, Long.toString(message.eventId()));
        }
        headers.put(Headers.CREATED_AT, isoInstant(message.createdAt()));
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

    /**
     * ISO-8601 text of an instant, as in the {@code created-at} header: exactly what
     * {@link DateTimeFormatter#ISO_INSTANT} writes. Years 1 to 9999 are written by hand, because
     * this runs for every message (docs/decisions/002-per-event-patches.md).
     */
    public static String isoInstant(Instant instant) {
        long seconds = instant.getEpochSecond();
        if (seconds < FIRST_FAST_SECOND || seconds > LAST_FAST_SECOND) {
            return ISO.format(instant);
        }
        LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
        StringBuilder s = new StringBuilder(30);
        pad(s, t.getYear(), 4).append('-');
        pad(s, t.getMonthValue(), 2).append('-');
        pad(s, t.getDayOfMonth(), 2).append('T');
        pad(s, t.getHour(), 2).append(':');
        pad(s, t.getMinute(), 2).append(':');
        pad(s, t.getSecond(), 2);
        int nanos = instant.getNano();
        if (nanos != 0) {
            // ISO_INSTANT writes the fraction in groups of three digits, as few as it needs.
            s.append('.');
            if (nanos % 1_000_000 == 0) {
                pad(s, nanos / 1_000_000, 3);
            } else if (nanos % 1_000 == 0) {
                pad(s, nanos / 1_000, 6);
            } else {
                pad(s, nanos, 9);
            }
        }
        return s.append('Z').toString();
    }

    private static StringBuilder pad(StringBuilder s, int value, int width) {
        for (int limit = 10, digits = 1; digits < width; limit *= 10, digits++) {
            if (value < limit) {
                s.append('0');
            }
        }
        return s.append(value);
    }
}
