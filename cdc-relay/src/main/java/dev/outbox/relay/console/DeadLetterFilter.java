package dev.outbox.relay.console;

import dev.outbox.protocol.DeadLetterReason;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which dead letters a page, an API call or a bulk action is about. Every field is optional;
 * {@link #parse} is the one place request parameters become a filter, and it refuses what it
 * cannot read with a message that names the parameter.
 *
 * @param routingKey exact, or with {@code *} standing for any run of characters
 * @param fingerprint the error fingerprint of {@link DeadLetterQueries#FINGERPRINT}
 * @param maxId only dead letters up to this id: what a dry run saw, so a bulk action confirmed
 *     after it does not take in dead letters that arrived since
 */
public record DeadLetterFilter(
        String queue,
        String reason,
        String status,
        String routingKey,
        String fingerprint,
        Instant since,
        Instant until,
        Long maxId,
        int limit) {

    public static final List<String> REASONS = DeadLetterReason.ALL;
    public static final List<String> STATUSES = List.of("new", "replayed", "discarded");
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    private static final Set<String> PARAMETERS =
            Set.of("queue", "reason", "status", "routing_key", "fingerprint", "since", "until", "max_id", "limit");

    public static DeadLetterFilter none() {
        return new DeadLetterFilter(null, null, null, null, null, null, null, null, DEFAULT_LIMIT);
    }

    /** Parameters of a query string or a form; empty values count as absent, others must be known. */
    public static DeadLetterFilter parse(Map<String, String> params) {
        String reason = value(params, "reason");
        if (reason != null && !REASONS.contains(reason)) {
            throw new IllegalArgumentException(
                    "reason must be one of " + String.join(", ", REASONS) + " (was '" + shorten(reason) + "')");
        }
        String status = value(params, "status");
        if (status != null && !STATUSES.contains(status)) {
            throw new IllegalArgumentException(
                    "status must be one of " + String.join(", ", STATUSES) + " (was '" + shorten(status) + "')");
        }
        String limit = value(params, "limit");
        String maxId = value(params, "max_id");
        return new DeadLetterFilter(
                value(params, "queue"),
                reason,
                status,
                value(params, "routing_key"),
                // Not trimmed: a fingerprint is matched exactly, and an error message may end in a space.
                params.get("fingerprint") == null || params.get("fingerprint").isEmpty()
                        ? null
                        : params.get("fingerprint"),
                instant(params, "since"),
                instant(params, "until"),
                maxId == null ? null : (long) number("max_id", maxId, 1, Long.MAX_VALUE),
                limit == null ? DEFAULT_LIMIT : (int) number("limit", limit, 1, MAX_LIMIT));
    }

    /** Only the parameters this filter reads; anything else in {@code params} is left to the caller. */
    static boolean isFilterParameter(String name) {
        return PARAMETERS.contains(name);
    }

    public DeadLetterFilter withStatus(String status) {
        return new DeadLetterFilter(queue, reason, status, routingKey, fingerprint, since, until, maxId, limit);
    }

    public DeadLetterFilter withMaxId(Long maxId) {
        return new DeadLetterFilter(queue, reason, status, routingKey, fingerprint, since, until, maxId, limit);
    }

    public DeadLetterFilter withLimit(int limit) {
        return new DeadLetterFilter(queue, reason, status, routingKey, fingerprint, since, until, maxId, limit);
    }

    /** The filter as parameters again (absent fields left out), for links, forms and the audit. */
    public Map<String, String> toParameters() {
        Map<String, String> p = new LinkedHashMap<>();
        put(p, "queue", queue);
        put(p, "reason", reason);
        put(p, "status", status);
        put(p, "routing_key", routingKey);
        put(p, "fingerprint", fingerprint);
        put(p, "since", since == null ? null : since.toString());
        put(p, "until", until == null ? null : until.toString());
        put(p, "max_id", maxId == null ? null : maxId.toString());
        return p;
    }

    private static void put(Map<String, String> p, String key, String value) {
        if (value != null) {
            p.put(key, value);
        }
    }

    private static String value(Map<String, String> params, String name) {
        String v = params.get(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    /** ISO-8601 instants, and what a browser's date and datetime-local inputs send (read as UTC). */
    private static Instant instant(Map<String, String> params, String name) {
        String v = value(params, name);
        if (v == null) {
            return null;
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException notInstant) {
            try {
                return LocalDateTime.parse(v).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException notDateTime) {
                try {
                    return LocalDate.parse(v).atStartOfDay().toInstant(ZoneOffset.UTC);
                } catch (DateTimeParseException notDate) {
                    throw new IllegalArgumentException(name
                            + " must be a time such as 2026-12-01T09:30:00Z, 2026-12-01T09:30 (UTC) or 2026-12-01 (was '"
                            + shorten(v) + "')");
                }
            }
        }
    }

    private static long number(String name, String v, long min, long max) {
        try {
            long n = Long.parseLong(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // refused below, with the rule
        }
        throw new IllegalArgumentException(name + " must be a whole number from " + min
                + (max == Long.MAX_VALUE ? " up" : " to " + max) + " (was '" + shorten(v) + "')");
    }

    private static String shorten(String v) {
        return v.length() <= 60 ? v : v.substring(0, 57) + "...";
    }
}
