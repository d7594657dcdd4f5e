package dev.outbox.protocol;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The routing-key rules every module agrees on (docs/design.md section 2), and the exchange a key
 * goes to.
 *
 * <p>A key has at least two non-empty segments separated by {@code .}; the first segment names
 * the RabbitMQ topic exchange and is 1 to 255 of {@code A-Z a-z 0-9 _ -}; the whole key is at
 * most 255 bytes of UTF-8. The same rules are enforced by named CHECK constraints on the
 * {@code events} table, for writers that do not use this API.
 */
public final class RoutingKey {

    /** The longest key AMQP 0-9-1 carries (a short string). */
    public static final int MAX_BYTES = 255;

    private static final Pattern EXCHANGE = Pattern.compile("[A-Za-z0-9_-]{1,255}");

    private RoutingKey() {}

    /**
     * Checks {@code routingKey} against the rules.
     *
     * @return the key itself, for chaining
     * @throws InvalidEventException naming the broken rule and the bad key
     */
    public static String validate(String routingKey) {
        if (routingKey == null) {
            throw new InvalidEventException("routing key is required (was null)");
        }
        int bytes = routingKey.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            throw new InvalidEventException("routing key must be at most " + MAX_BYTES + " bytes of UTF-8 (was " + bytes
                    + " bytes: " + abbreviate(routingKey) + ")");
        }
        String[] segments = routingKey.split("\\.", -1);
        if (segments.length < 2) {
            throw new InvalidEventException("routing key must have at least two dot-separated segments,"
                    + " the first naming the exchange, e.g. order.created (was '" + routingKey + "')");
        }
        for (String segment : segments) {
            if (segment.isEmpty()) {
                throw new InvalidEventException("routing key segments must not be empty (was '" + routingKey + "')");
            }
        }
        if (!EXCHANGE.matcher(segments[0]).matches()) {
            throw new InvalidEventException("routing key's first segment names the exchange and must be"
                    + " 1 to 255 of A-Z a-z 0-9 _ - (was '" + segments[0] + "' in '" + routingKey + "')");
        }
        return routingKey;
    }

    /** Whether {@code routingKey} keeps the rules of {@link #validate}. */
    public static boolean isValid(String routingKey) {
        try {
            validate(routingKey);
            return true;
        } catch (InvalidEventException e) {
            return false;
        }
    }

    /** The exchange a valid key is published to: its first segment ({@code order.created} -> {@code order}). */
    public static String exchangeOf(String routingKey) {
        int dot = routingKey.indexOf('.');
        return dot < 0 ? routingKey : routingKey.substring(0, dot);
    }

    static String abbreviate(String value) {
        return value.length() <= 64 ? "'" + value + "'" : "'" + value.substring(0, 61) + "...'";
    }
}
