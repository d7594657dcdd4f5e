package dev.outbox.protocol;

import java.util.List;

/**
 * Why a message was dead-lettered: the {@code dead-letter-reason} header, the {@code reason}
 * column of {@code dead_letters} (its check constraint lists the same) and a label of the
 * metrics. RabbitMQ's own reasons come first.
 */
public final class DeadLetterReason {

    /** Rejected by its consumer (RabbitMQ), or refused at once by the SDK's handler rules. */
    public static final String REJECTED = "rejected";
    /** Its time to live in a queue ran out (RabbitMQ). */
    public static final String EXPIRED = "expired";
    /** Pushed out of a queue at its length limit (RabbitMQ). */
    public static final String MAXLEN = "maxlen";
    /** Delivered more often than a quorum queue's delivery limit (RabbitMQ). */
    public static final String DELIVERY_LIMIT = "delivery_limit";
    /** Its retries ran out (SDK). */
    public static final String RETRIES_EXHAUSTED = "retries_exhausted";
    /** No queue was bound to take it (the relay's unrouted queue). */
    public static final String UNROUTABLE = "unroutable";
    /** The relay could not publish it as it is. */
    public static final String RELAY_ERROR = "relay_error";

    /** Every reason, in the order above. */
    public static final List<String> ALL =
            List.of(REJECTED, EXPIRED, MAXLEN, DELIVERY_LIMIT, RETRIES_EXHAUSTED, UNROUTABLE, RELAY_ERROR);

    private DeadLetterReason() {}
}
