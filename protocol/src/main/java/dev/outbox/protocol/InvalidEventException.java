package dev.outbox.protocol;

/**
 * An event that breaks a rule of the outbox (routing key, payload, headers). Thrown before
 * anything is written. The message names the rule and the bad value, never the payload.
 */
public class InvalidEventException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public InvalidEventException(String message) {
        super(message);
    }

    public InvalidEventException(String message, Throwable cause) {
        super(message, cause);
    }
}
