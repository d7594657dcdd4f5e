package dev.outbox.sdk.deadletter;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One row of {@code dead_letters}: a message that did not reach or could not be handled by a
 * consumer, with why, where, and everything needed to replay it.
 *
 * @param reason {@code rejected}, {@code expired}, {@code maxlen}, {@code delivery_limit},
 *               {@code retries_exhausted}, {@code unroutable} or {@code relay_error}
 * @param status {@code new}, {@code replayed} or {@code discarded}
 */
public record DeadLetter(
        long id,
        String messageId,
        String exchange,
        String routingKey,
        String queue,
        String reason,
        int retryCount,
        String lastError,
        JsonNode headers,
        JsonNode properties,
        byte[] body,
        JsonNode bodyJson,
        Instant deadLetteredAt,
        Instant capturedAt,
        String status,
        Instant replayedAt) {}
