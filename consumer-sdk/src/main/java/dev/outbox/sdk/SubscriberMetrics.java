package dev.outbox.sdk;

/**
 * Where a subscription reports what it did with each message. {@link #NONE} by default; {@code
 * dev.outbox.sdk.metrics.MicrometerSubscriberMetrics} records Micrometer meters; an application
 * may plug in its own. Called on the consumer threads: keep it cheap and never throw.
 */
public interface SubscriberMetrics {

    /** How a message was settled. */
    enum Outcome {
        /** Handled and acknowledged. */
        HANDLED,
        /** Sent to a retry queue (a {@link RetryException}, or any exception under retryAllExceptions). */
        RETRIED,
        /** Dead-lettered at once with reason {@code rejected}. */
        REJECTED,
        /** Dead-lettered after its last retry, reason {@code retries_exhausted}. */
        RETRIES_EXHAUSTED,
        /** A passing fault (the database, say): put back on its queue after a backoff. */
        REQUEUED
    }

    /** A subscription on {@code queue} was created: register what should exist from the start. */
    default void subscribed(String queue) {}

    /** One message of {@code queue} settled, after {@code handlerNanos} in the handler. */
    void settled(String queue, Outcome outcome, long handlerNanos);

    SubscriberMetrics NONE = (queue, outcome, handlerNanos) -> {};
}
