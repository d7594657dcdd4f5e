package dev.outbox.sdk;

import java.time.Duration;

/**
 * Thrown by a handler to have the message delivered again later, as in the old library:
 * {@code throw new RetryException();}. The message goes back to the same queue after the
 * subscription's backoff for this attempt (or after {@link #delay()} when given). After the
 * subscription's maximum number of retries it is dead-lettered with reason
 * {@code retries_exhausted}.
 */
public class RetryException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private final transient Duration delay;

    public RetryException() {
        this("retry requested", null, null);
    }

    public RetryException(String message) {
        this(message, null, null);
    }

    public RetryException(String message, Throwable cause) {
        this(message, null, cause);
    }

    /** Retry after exactly {@code delay} instead of the subscription's backoff. */
    public RetryException(String message, Duration delay) {
        this(message, delay, null);
    }

    public RetryException(String message, Duration delay, Throwable cause) {
        super(message, cause);
        if (delay != null && (delay.isNegative() || delay.toMillis() > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("retry delay must be 0 .. 24 days (was " + delay + ")");
        }
        this.delay = delay;
    }

    /** The delay this exception asks for, or {@code null} for the subscription's backoff. */
    public Duration delay() {
        return delay;
    }
}
