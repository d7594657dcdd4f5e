package dev.outbox.db;

/**
 * Writing to the outbox failed in the database (connection lost, constraint, permission).
 * The caller's transaction must be rolled back; {@link Outbox#inTransaction} does that itself.
 */
public class OutboxException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public OutboxException(String message, Throwable cause) {
        super(message, cause);
    }
}
