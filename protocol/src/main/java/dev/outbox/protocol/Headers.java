package dev.outbox.protocol;

/**
 * Names of the AMQP headers this project writes and reads (docs/design.md sections 3 and 4).
 * None starts with {@code x-}: RabbitMQ reserves those for the broker.
 */
public final class Headers {

    /** The {@code events} row id, as decimal text. */
    public static final String EVENT_ID = "event-id";
    /** When the event was written (ISO-8601, microseconds, UTC). */
    public static final String CREATED_AT = "created-at";

    public static final String AGGREGATE_TYPE = "aggregate-type";
    public static final String AGGREGATE_ID = "aggregate-id";
    /** How many times a subscriber asked for this message again (0 on the first delivery). */
    public static final String RETRY_COUNT = "retry-count";
    /** Why a message was dead-lettered by this project's code ({@code relay_error}, {@code rejected}, ...). */
    public static final String DEAD_LETTER_REASON = "dead-letter-reason";
    /** The queue a subscriber dead-lettered the message from. */
    public static final String DEAD_LETTER_QUEUE = "dead-letter-queue";
    /** Identifies one dead-lettering by this project's code, so a redelivered copy is captured once. */
    public static final String DEAD_LETTER_ID = "dead-letter-id";
    /** When this project's code dead-lettered the message (ISO-8601). */
    public static final String DEAD_LETTERED_AT = "dead-lettered-at";
    /** How many times the message was replayed from the dead_letters table. */
    public static final String REPLAY_COUNT = "replay-count";
    /** The last error: exception class and message, truncated. */
    public static final String ERROR = "error";
    /** Where a dead-lettered or unroutable message was first published. */
    public static final String ORIGINAL_EXCHANGE = "original-exchange";

    public static final String ORIGINAL_ROUTING_KEY = "original-routing-key";
    /** Set when a dead letter could not carry its body (larger than the broker accepts). */
    public static final String BODY_OMITTED_BYTES = "body-omitted-bytes";

    private Headers() {}
}
