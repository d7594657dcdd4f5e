package dev.outbox.db;

import java.util.UUID;

/**
 * An event written to the outbox: its row id (sent as header {@code event-id}) and its
 * message id (the AMQP {@code message-id}, the consumers' dedupe key).
 */
public record AppendedEvent(long id, UUID messageId) {}
