package dev.outbox.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Subscribes a bean method to the events whose routing keys match {@link #patterns()}, consumed
 * from the durable queue {@link #queue()}. The method takes one of:
 *
 * <ul>
 *   <li>{@code (Map<String, Object> headers, JsonNode body)};
 *   <li>{@code (Map<String, Object> headers, T body)}: the body bound to {@code T} with Jackson
 *       (a body that does not bind is dead-lettered);
 *   <li>{@code (Map<String, Object> headers, JsonNode|T body, Connection connection)}: the
 *       transactional inbox; write with {@code connection} and do not commit: the message is
 *       recorded in the {@code inbox} table in the same transaction, so a redelivered duplicate
 *       changes nothing.
 * </ul>
 *
 * <p>Return to acknowledge; throw {@link dev.outbox.sdk.RetryException} to be called again later
 * (at most {@link #maxRetries()} times, then dead-lettered); any other exception dead-letters the
 * message at once. Listeners start with the application context and stop with it, letting
 * running handlers finish ({@code outbox.listener.close-timeout}).
 *
 * <pre>{@code
 * @OutboxListener(patterns = "order.created", queue = "billing_orders")
 * void bill(Map<String, Object> headers, Order order) { ... }
 * }</pre>
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface OutboxListener {

    /** Routing-key patterns: {@code *} one word, {@code #} any number, e.g. {@code order.*}. */
    String[] patterns();

    /** The durable queue this listener consumes; one listener per queue. */
    String queue();

    /** Retries after a RetryException before dead-lettering; -1: {@code outbox.listener.max-retries}. */
    int maxRetries() default -1;

    /** Consumers of the queue in this application; -1: {@code outbox.listener.concurrency}. */
    int concurrency() default -1;

    /** Unacknowledged messages per consumer; -1: {@code outbox.listener.prefetch}. */
    int prefetch() default -1;

    /** Delay before the first retry, e.g. {@code 500ms} or {@code 2s}; empty: {@code outbox.listener.backoff}. */
    String backoff() default "";

    /**
     * Partitions for ordered competing consumers (docs/scaling.md): messages of one
     * {@code aggregate-id} are handled one at a time in commit order across all instances. 1: not partitioned.
     */
    int partitions() default 1;
}
