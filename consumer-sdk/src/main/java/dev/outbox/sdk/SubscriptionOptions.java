package dev.outbox.sdk;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * How a subscription consumes: its queue and the queue's shape, prefetch, concurrency, retries
 * and their backoff. Immutable; each {@code with...} returns a validated copy.
 *
 * <pre>{@code
 * SubscriptionOptions.queue("restapi_orderx").prefetch(50).maxRetries(5)
 *         .backoff(Duration.ofSeconds(1), 2.0).messageTtl(Duration.ofHours(1))
 * }</pre>
 */
public final class SubscriptionOptions {

    /** RabbitMQ's queue types: quorum (replicated, the default) or classic. */
    public enum QueueType {
        QUORUM,
        CLASSIC
    }

    private final String queue;
    private final int prefetch;
    private final int concurrency;
    private final int maxRetries;
    private final Duration initialBackoff;
    private final double backoffMultiplier;
    private final Duration maxBackoff;
    private final Duration messageTtl;
    private final QueueType queueType;
    private final int deliveryLimit;
    private final boolean retryAllExceptions;
    private final Duration closeTimeout;
    private final Duration inboxRetention;
    private final SubscriberMetrics metrics;
    private final int partitions;
    private final String partitionKey;
    private final dev.outbox.protocol.EventTracing tracing;

    private SubscriptionOptions(
            String queue,
            int prefetch,
            int concurrency,
            int maxRetries,
            Duration initialBackoff,
            double backoffMultiplier,
            Duration maxBackoff,
            Duration messageTtl,
            QueueType queueType,
            int deliveryLimit,
            boolean retryAllExceptions,
            Duration closeTimeout,
            Duration inboxRetention,
            SubscriberMetrics metrics,
            int partitions,
            String partitionKey,
            dev.outbox.protocol.EventTracing tracing) {
        this.queue = validQueue(queue);
        this.tracing = Objects.requireNonNull(tracing, "tracing");
        this.prefetch = within("prefetch", prefetch, 1, 65_535);
        this.concurrency = within("concurrency", concurrency, 1, 64);
        this.maxRetries = within("maxRetries", maxRetries, 0, 1000);
        this.initialBackoff = positive("backoff", initialBackoff);
        if (backoffMultiplier < 1.0 || backoffMultiplier > 10.0) {
            throw new IllegalArgumentException(
                    "backoff multiplier must be 1.0 .. 10.0 (was " + backoffMultiplier + ")");
        }
        this.backoffMultiplier = backoffMultiplier;
        this.maxBackoff = positive("maxBackoff", maxBackoff);
        this.messageTtl = messageTtl == null ? null : positive("messageTtl", messageTtl);
        this.queueType = Objects.requireNonNull(queueType, "queueType");
        this.deliveryLimit = within("deliveryLimit", deliveryLimit, 0, 10_000);
        this.retryAllExceptions = retryAllExceptions;
        this.closeTimeout = positive("closeTimeout", closeTimeout);
        this.inboxRetention = positive("inboxRetention", inboxRetention);
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.partitions = within("partitions", partitions, 1, 1000);
        if (partitionKey == null || partitionKey.isBlank() || partitionKey.length() > 255) {
            throw new IllegalArgumentException(
                    "partitionKey must name a header of 1 to 255 characters, e.g. aggregate-id (was " + partitionKey
                            + ")");
        }
        this.partitionKey = partitionKey;
        if (partitions > 1 && concurrency > 1) {
            throw new IllegalArgumentException("a partitioned subscription consumes each of its " + partitions
                    + " partitions with one consumer, in order; concurrency must be 1 (was " + concurrency
                    + "): partitions are its parallelism");
        }
    }

    /**
     * Defaults: prefetch 50, one consumer, 5 retries with backoff 1 s doubling (1, 2, 4, 8, 16 s,
     * at most 1 h), no TTL, a quorum queue with delivery limit 20 (the backstop against a
     * handler that kills its process on every delivery), other exceptions dead-lettered at once,
     * close waits 30 s for running handlers, inbox rows kept 7 days.
     */
    public static SubscriptionOptions queue(String queue) {
        return new SubscriptionOptions(
                queue,
                50,
                1,
                5,
                Duration.ofSeconds(1),
                2.0,
                Duration.ofHours(1),
                null,
                QueueType.QUORUM,
                20,
                false,
                Duration.ofSeconds(30),
                Duration.ofDays(7),
                SubscriberMetrics.NONE,
                1,
                dev.outbox.protocol.Headers.AGGREGATE_ID,
                dev.outbox.protocol.EventTracing.detect());
    }

    public SubscriptionOptions prefetch(int prefetch) {
        return copy(c -> c.prefetch = prefetch);
    }

    /** Consumers (each on its own channel with its own prefetch) handling messages in parallel. */
    public SubscriptionOptions concurrency(int consumers) {
        return copy(c -> c.concurrency = consumers);
    }

    /** Retries before a message is dead-lettered with reason retries_exhausted (deliveries = retries + 1). */
    public SubscriptionOptions maxRetries(int retries) {
        return copy(c -> c.maxRetries = retries);
    }

    /** Delay before retry n (1-based): {@code initial * multiplier^(n-1)}, capped at the max backoff. */
    public SubscriptionOptions backoff(Duration initial, double multiplier) {
        return copy(c -> {
            c.initialBackoff = initial;
            c.backoffMultiplier = multiplier;
        });
    }

    public SubscriptionOptions maxBackoff(Duration max) {
        return copy(c -> c.maxBackoff = max);
    }

    /** Per-queue message TTL: a message waiting longer is dead-lettered by RabbitMQ with reason expired. */
    public SubscriptionOptions messageTtl(Duration ttl) {
        return copy(c -> c.messageTtl = ttl);
    }

    public SubscriptionOptions queueType(QueueType type) {
        return copy(c -> c.queueType = type);
    }

    /** Quorum queues only: deliveries after which RabbitMQ dead-letters a message (reason delivery_limit); 0 = none. */
    public SubscriptionOptions deliveryLimit(int limit) {
        return copy(c -> c.deliveryLimit = limit);
    }

    /** Treat every exception like {@link RetryException} instead of dead-lettering at once. */
    public SubscriptionOptions retryAllExceptions(boolean retry) {
        return copy(c -> c.retryAllExceptions = retry);
    }

    /** How long {@code close()} waits for running handlers. */
    public SubscriptionOptions closeTimeout(Duration timeout) {
        return copy(c -> c.closeTimeout = timeout);
    }

    /** How long a transactional subscription remembers processed message ids. */
    public SubscriptionOptions inboxRetention(Duration retention) {
        return copy(c -> c.inboxRetention = retention);
    }

    /**
     * Where this subscription reports each message's outcome and handler time; e.g.
     * {@code new MicrometerSubscriberMetrics(meterRegistry)} (docs/sdk.md, Metrics). None by default.
     */
    public SubscriptionOptions metrics(SubscriberMetrics metrics) {
        return copy(c -> c.metrics = Objects.requireNonNull(metrics, "metrics"));
    }

    /**
     * Ordered competing consumers (docs/scaling.md): messages are spread over {@code partitions}
     * queues ({@code <queue>.p0} ...) by the hash of their {@link #partitionKey(String) key}
     * header through RabbitMQ's consistent-hash exchange, each queue with a single active
     * consumer. Any number of instances may subscribe; RabbitMQ gives each partition to one of
     * them and moves it when that one dies. Messages of one key are handled one at a time in
     * the order they were published; a {@link RetryException} is retried in place, so the
     * partition's later messages wait for it. Needs the {@code rabbitmq_consistent_hash_exchange}
     * plugin. 1 (the default): not partitioned.
     */
    public SubscriptionOptions partitions(int partitions) {
        return copy(c -> c.partitions = partitions);
    }

    /** The header whose value picks a message's partition; {@code aggregate-id} by default. */
    public SubscriptionOptions partitionKey(String header) {
        return copy(c -> c.partitionKey = header);
    }

    /**
     * How each handler call is traced: in a consumer span continuing the trace the message's
     * {@code traceparent} header carries. By default {@code EventTracing.detect()}:
     * OpenTelemetry's global instance when the application has the OpenTelemetry API, else none.
     */
    public SubscriptionOptions tracing(dev.outbox.protocol.EventTracing tracing) {
        return copy(c -> c.tracing = Objects.requireNonNull(tracing, "tracing"));
    }

    /** A mutable copy of the fields for a wither; the constructor validates the result again. */
    private static final class Fields {
        String queue;
        int prefetch;
        int concurrency;
        int maxRetries;
        Duration initialBackoff;
        double backoffMultiplier;
        Duration maxBackoff;
        Duration messageTtl;
        QueueType queueType;
        int deliveryLimit;
        boolean retryAllExceptions;
        Duration closeTimeout;
        Duration inboxRetention;
        SubscriberMetrics metrics;
        int partitions;
        String partitionKey;
        dev.outbox.protocol.EventTracing tracing;
    }

    private SubscriptionOptions copy(java.util.function.Consumer<Fields> change) {
        Fields c = new Fields();
        c.queue = queue;
        c.prefetch = prefetch;
        c.concurrency = concurrency;
        c.maxRetries = maxRetries;
        c.initialBackoff = initialBackoff;
        c.backoffMultiplier = backoffMultiplier;
        c.maxBackoff = maxBackoff;
        c.messageTtl = messageTtl;
        c.queueType = queueType;
        c.deliveryLimit = deliveryLimit;
        c.retryAllExceptions = retryAllExceptions;
        c.closeTimeout = closeTimeout;
        c.inboxRetention = inboxRetention;
        c.metrics = metrics;
        c.partitions = partitions;
        c.partitionKey = partitionKey;
        c.tracing = tracing;
        change.accept(c);
        return new SubscriptionOptions(
                c.queue,
                c.prefetch,
                c.concurrency,
                c.maxRetries,
                c.initialBackoff,
                c.backoffMultiplier,
                c.maxBackoff,
                c.messageTtl,
                c.queueType,
                c.deliveryLimit,
                c.retryAllExceptions,
                c.closeTimeout,
                c.inboxRetention,
                c.metrics,
                c.partitions,
                c.partitionKey,
                c.tracing);
    }

    /** The delay before retry {@code attempt} (1-based). */
    public Duration backoffFor(int attempt) {
        double millis = initialBackoff.toMillis() * Math.pow(backoffMultiplier, Math.max(0, attempt - 1));
        return Duration.ofMillis((long) Math.min(millis, maxBackoff.toMillis()));
    }

    public String queue() {
        return queue;
    }

    public SubscriberMetrics metrics() {
        return metrics;
    }

    public int partitions() {
        return partitions;
    }

    public boolean isPartitioned() {
        return partitions > 1;
    }

    public String partitionKey() {
        return partitionKey;
    }

    public dev.outbox.protocol.EventTracing tracing() {
        return tracing;
    }

    public int prefetch() {
        return prefetch;
    }

    public int concurrency() {
        return concurrency;
    }

    public int maxRetries() {
        return maxRetries;
    }

    public Duration messageTtl() {
        return messageTtl;
    }

    public QueueType queueType() {
        return queueType;
    }

    public int deliveryLimit() {
        return deliveryLimit;
    }

    public boolean retryAllExceptions() {
        return retryAllExceptions;
    }

    public Duration closeTimeout() {
        return closeTimeout;
    }

    public Duration inboxRetention() {
        return inboxRetention;
    }

    private static String validQueue(String queue) {
        if (queue == null || queue.isBlank()) {
            throw new IllegalArgumentException("queue name is required");
        }
        if (queue.getBytes(StandardCharsets.UTF_8).length > 200) {
            // Retry queues append ".retry.<millis>", and AMQP names stop at 255 bytes.
            throw new IllegalArgumentException(
                    "queue name must be at most 200 bytes (was " + queue.length() + " characters)");
        }
        if (queue.startsWith("amq.")) {
            throw new IllegalArgumentException(
                    "queue names starting with amq. are reserved by RabbitMQ (was " + queue + ")");
        }
        return queue;
    }

    private static int within(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be " + min + ".." + max + " (was " + value + ")");
        }
        return value;
    }

    private static Duration positive(String name, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration (was " + value + ")");
        }
        return value;
    }

    @Override
    public String toString() {
        return "SubscriptionOptions[queue=" + queue + ", type=" + queueType + ", prefetch=" + prefetch
                + ", concurrency=" + concurrency + ", maxRetries=" + maxRetries + ", ttl=" + messageTtl
                + (partitions > 1 ? ", partitions=" + partitions + " by " + partitionKey : "") + "]";
    }
}
