package dev.outbox.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.protocol.AmqpValues;
import dev.outbox.protocol.BrokerErrors;
import dev.outbox.protocol.DeadLetterReason;
import dev.outbox.protocol.EventTracing;
import dev.outbox.protocol.Headers;
import dev.outbox.protocol.RoutingKey;
import dev.outbox.protocol.Topology;
import dev.outbox.sdk.internal.ConfirmingChannel;
import dev.outbox.sdk.internal.ConsumerCheck;
import dev.outbox.sdk.internal.IdleConnections;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one queue bound to one or more routing-key patterns, as in the old library:
 *
 * <pre>{@code
 * Subscriber subscriber = new Subscriber(broker, "order.created.*",
 *         SubscriptionOptions.queue("restapi_orderx"), "your_task_name");
 * subscriber.subscribe((headers, body) -> { ... throw new RetryException(); });  // blocks
 * }</pre>
 *
 * <p>The queue is durable (quorum unless asked otherwise), dead-letters to {@code DLX}, and is
 * bound to the exchange named by each pattern's first segment. Each message is acknowledged
 * on its own, after its handler returned. {@link RetryException}: the message comes back to
 * this queue after the backoff, its count in header {@code retry-count}; after the maximum it
 * is dead-lettered with reason {@code retries_exhausted}. Any other exception or {@link Error}, a body that is
 * not JSON or does not bind: dead-lettered at once with reason {@code rejected} and the error
 * in header {@code error}; the subscriber goes on. A passing fault (the database or the
 * network away, a deadlock, a serialization failure; SQLSTATE classes 08, 40, 53 and 57P) is none of
 * these: the message is requeued after a growing backoff, never dead-lettered. A handler that hangs or dies leaves its
 * message unacknowledged, so RabbitMQ redelivers it.
 *
 * <p>Threading: {@code concurrency} consumers, each on its own channel; one channel's messages
 * are handled one at a time, in order. {@link #close()} stops taking messages, waits for
 * running handlers (bounded by {@code closeTimeout}), and closes.
 */
public final class Subscriber implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Subscriber.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ERROR_LENGTH = 1000;

    /** Where a subscription stands; {@link #state()}. */
    public enum State {
        /** Not started yet. */
        NEW,
        /** Every consumer is consuming. */
        RUNNING,
        /** A consumer or the connection is coming back (after a broker restart, a channel error, a deleted queue). */
        RECOVERING,
        /** Stopped for good by a failure it cannot recover from; {@link #failure()} says which. */
        FAILED,
        /** Closed by {@link #close()}. */
        CLOSED
    }

    /** Passing faults in a row, for the requeue backoff; 0 after a message is handled. */
    private final AtomicInteger passingFaults = new AtomicInteger();

    /** What a subscription does with one delivery; throws to retry or dead-letter. */
    private interface Processor {
        void process(Map<String, Object> headers, byte[] body, AMQP.BasicProperties props) throws Exception;
    }

    private final Broker broker;
    private final List<String> patterns;
    private final SubscriptionOptions options;
    private final SubscriberMetrics metrics;
    private final String name;
    private final ConfirmingChannel republisher;
    private final SubscriptionQueues queues;
    private final List<Slot> slots = new ArrayList<>();
    private final AtomicInteger running = new AtomicInteger();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean closing;
    private volatile boolean closedForGood;
    private volatile Throwable failure;
    private ScheduledExecutorService housekeeping;
    private volatile IdleConnections connections;

    /** A subscription to one routing-key pattern. */
    public Subscriber(Broker broker, String pattern, SubscriptionOptions options, String name) {
        this(broker, List.of(pattern), options, name);
    }

    /** A subscription to several patterns, all on one queue. */
    public Subscriber(Broker broker, List<String> patterns, SubscriptionOptions options, String name) {
        this.broker = Objects.requireNonNull(broker, "broker");
        this.options = Objects.requireNonNull(options, "options");
        this.metrics = options.metrics();
        if (patterns == null || patterns.isEmpty()) {
            throw new IllegalArgumentException("at least one routing-key pattern is required, e.g. order.created.*");
        }
        for (String p : patterns) {
            RoutingKey.validate(p);
        }
        this.patterns = List.copyOf(patterns);
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("subscriber name is required (it names the consumer and its inbox)");
        }
        this.name = name;
        this.republisher = new ConfirmingChannel(broker);
        this.queues = new SubscriptionQueues(broker, options);
        metrics.subscribed(options.queue());
    }

    /**
     * Consumes with {@code handler} until {@link #close()}; blocks the calling thread.
     *
     * @throws SubscriptionFailedException when the subscription stopped for good (see {@link #failure()})
     */
    public void subscribe(MessageHandler handler) throws IOException, InterruptedException {
        start(handler);
        awaitTermination();
    }

    /** As {@link #subscribe(MessageHandler)}, binding each body to {@code type} with Jackson. */
    public <T> void subscribe(Class<T> type, TypedMessageHandler<T> handler) throws IOException, InterruptedException {
        start(type, handler);
        awaitTermination();
    }

    /** Effectively-once: as {@link #subscribe(MessageHandler)}, with the handler inside a transaction and the inbox. */
    public void subscribeTransactional(DataSource dataSource, TransactionalHandler handler)
            throws IOException, InterruptedException {
        startTransactional(dataSource, handler);
        awaitTermination();
    }

    /**
     * Waits until the subscription is closed, or stopped for good.
     *
     * @throws SubscriptionFailedException when it stopped for good, with the failure as its cause
     */
    public void awaitTermination() throws InterruptedException, SubscriptionFailedException {
        closed.await();
        Throwable failed = failure;
        if (failed != null) {
            throw new SubscriptionFailedException(
                    "subscriber " + name + " on queue " + options.queue() + " stopped: "
                            + BrokerErrors.describe(failed),
                    failed);
        }
    }

    /**
     * Where the subscription stands. A consumer whose channel the broker closed, or whose
     * queue was deleted, is started again by itself (its queue declared again); while it is,
     * and while the connection recovers, the state is {@link State#RECOVERING}.
     */
    public State state() {
        if (failure != null) {
            return State.FAILED;
        }
        if (closedForGood || closing) {
            return State.CLOSED;
        }
        List<Slot> current;
        synchronized (this) {
            current = List.copyOf(slots);
        }
        if (current.isEmpty()) {
            return State.NEW;
        }
        if (!broker.isOpen()) {
            return State.RECOVERING;
        }
        for (Slot slot : current) {
            if (slot.restarting || slot.channel == null || !slot.channel.isOpen()) {
                return State.RECOVERING;
            }
        }
        return State.RUNNING;
    }

    /** Why the subscription stopped for good, if it did. */
    public java.util.Optional<Throwable> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    /** Declares the topology and starts consuming; returns at once. */
    public void start(MessageHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        begin((headers, body, props) -> handler.handle(headers, parse(body)));
    }

    public <T> void start(Class<T> type, TypedMessageHandler<T> handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        begin((headers, body, props) -> {
            T value;
            try {
                value = JSON.treeToValue(parse(body), type);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new BadMessageException(
                        "body does not bind to " + type.getName() + ": " + e.getOriginalMessage(), e);
            }
            handler.handle(headers, value);
        });
    }

    public void startTransactional(DataSource dataSource, TransactionalHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        Inbox inbox = new Inbox(dataSource, name);
        connections = new IdleConnections(dataSource, options.concurrency());
        begin((headers, body, props) -> {
            String messageId = props.getMessageId();
            if (messageId == null || messageId.isBlank()) {
                throw new BadMessageException(
                        "message has no message-id; a transactional subscription"
                                + " deduplicates by message id and cannot take it",
                        null);
            }
            JsonNode json = parse(body);
            Connection c = connections.take();
            boolean healthy = false;
            try {
                c.setAutoCommit(false);
                try {
                    if (!inbox.record(c, messageId)) {
                        c.rollback();
                        LOG.debug("{}: message {} already processed; acknowledging the duplicate", name, messageId);
                        healthy = true;
                        return;
                    }
                    handler.handle(headers, json, c);
                    c.commit();
                    healthy = true;
                } catch (Throwable t) {
                    try {
                        c.rollback();
                        healthy = true; // rolled back cleanly: the connection can serve the next message
                    } catch (SQLException rollbackFailed) {
                        // The connection is gone (that is often why t happened): report t, not the rollback's error.
                        t.addSuppressed(rollbackFailed);
                    }
                    throw t;
                }
            } finally {
                connections.give(c, healthy);
            }
        });
        housekeeping().scheduleWithFixedDelay(() -> inbox.clean(options.inboxRetention()), 0, 1, TimeUnit.HOURS);
    }

    private synchronized ScheduledExecutorService housekeeping() {
        if (housekeeping == null) {
            housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "subscriber-" + name + "-housekeeping");
                t.setDaemon(true);
                return t;
            });
        }
        return housekeeping;
    }

    private synchronized void begin(Processor processor) throws IOException {
        if (!slots.isEmpty()) {
            throw new IllegalStateException("subscriber " + name + " is already started");
        }
        if (closing) {
            throw new IllegalStateException("subscriber " + name + " is closed");
        }
        declareTopology();
        List<String> consumed = queues.consumedQueues();
        int consumers = options.isPartitioned() ? consumed.size() : options.concurrency();
        for (int i = 0; i < consumers; i++) {
            Slot slot = new Slot(i, consumed.get(Math.min(i, consumed.size() - 1)), processor);
            slot.open();
            slots.add(slot);
        }
        long every = ConsumerCheck.INTERVAL.toMillis();
        housekeeping().scheduleWithFixedDelay(this::checkConsumers, every, every, TimeUnit.MILLISECONDS);
        LOG.info("Subscriber {} consuming queue {} ({}) bound to {}", name, options.queue(), options, patterns);
    }

    private void declareTopology() throws IOException {
        Channel setup = broker.createChannel();
        try {
            declareTopology(setup);
        } finally {
            closeQuietly(setup);
        }
    }

    /**
     * One consumer and its channel. The connection's own recovery brings back channels and
     * consumers after a lost connection; a channel the broker closes on its own (a channel
     * error, {@code consumer_timeout}) or a consumer it cancels (the queue was deleted) is not
     * recovered by it, so the slot starts itself again on a new channel.
     */
    private final class Slot {
        final int index;
        final String queue;
        final Processor processor;
        volatile Channel channel;
        volatile String tag;
        volatile boolean restarting;

        Slot(int index, String queue, Processor processor) {
            this.index = index;
            this.queue = queue;
            this.processor = processor;
        }

        void open() throws IOException {
            Channel ch = broker.createChannel();
            try {
                ch.basicQos(options.prefetch());
                ch.addShutdownListener(cause -> {
                    if (!closing && !cause.isInitiatedByApplication() && !cause.isHardError() && ch == channel) {
                        restart(this, "the broker closed its channel: " + BrokerErrors.describe(cause));
                    }
                });
                channel = ch;
                tag = ch.basicConsume(
                        queue, false, name + "-" + index + "-" + UUID.randomUUID(), new Consumer(ch, this));
            } catch (IOException | RuntimeException e) {
                closeQuietly(ch);
                throw e;
            }
        }
    }

    /** A consumer RabbitMQ dropped without a word (see ConsumerCheck) is started again. */
    private void checkConsumers() {
        List<Slot> current;
        synchronized (this) {
            current = List.copyOf(slots);
        }
        List<String> queuesConsumed = new ArrayList<>();
        current.forEach(slot -> queuesConsumed.add(slot.queue));
        java.util.Set<String> lost = ConsumerCheck.withoutConsumers(broker, queuesConsumed);
        for (Slot slot : current) {
            if (!closing && !slot.restarting && lost.contains(slot.queue)) {
                restart(
                        slot,
                        "RabbitMQ lists no consumer on queue " + slot.queue + " any more, though none was cancelled");
            }
        }
    }

    private void restart(Slot slot, String why) {
        synchronized (slot) {
            if (closing || failure != null || slot.restarting) {
                return;
            }
            slot.restarting = true;
        }
        LOG.warn(
                "Subscriber {}: consumer {} on queue {} stopped ({}); starting it again",
                name,
                slot.index,
                options.queue(),
                why);
        Channel old = slot.channel;
        housekeeping().execute(() -> closeQuietly(old));
        scheduleRestart(slot, 0);
    }

    private void scheduleRestart(Slot slot, int attempt) {
        long delay = attempt == 0 ? 0 : Math.min(30_000, 200L << Math.min(attempt - 1, 8));
        housekeeping()
                .schedule(
                        () -> {
                            if (closing || failure != null) {
                                return;
                            }
                            try {
                                declareTopology();
                                slot.open();
                                slot.restarting = false;
                                LOG.info(
                                        "Subscriber {}: consumer {} on queue {} consuming again",
                                        name,
                                        slot.index,
                                        options.queue());
                            } catch (IOException | RuntimeException e) {
                                if (isPermanentRefusal(e)) {
                                    fail(e);
                                } else {
                                    LOG.warn(
                                            "Subscriber {}: consumer {} not started again yet ({}); retrying",
                                            name,
                                            slot.index,
                                            BrokerErrors.describe(e));
                                    scheduleRestart(slot, attempt + 1);
                                }
                            }
                        },
                        delay,
                        TimeUnit.MILLISECONDS);
    }

    /**
     * A refusal that asking again will not change: a missing permission (403), something
     * missing the subscriber does not declare (404), or the queue declared with other arguments
     * by someone else (406). Retrying those for ever would be a silent stall.
     */
    private static boolean isPermanentRefusal(Throwable e) {
        int code = BrokerErrors.replyCode(e);
        return code == 403 || code == 404 || code == 406;
    }

    private void fail(Throwable cause) {
        synchronized (this) {
            if (failure != null || closing) {
                return;
            }
            failure = cause;
        }
        LOG.error(
                "Subscriber {} on queue {} stopped for good: RabbitMQ refused to consume again ({}). Its messages"
                        + " wait in the queue. Fix the cause (permissions of the user, or the queue's arguments: delete the"
                        + " queue or declare it as {} does) and start the subscriber again.",
                name,
                options.queue(),
                BrokerErrors.describe(cause),
                options);
        housekeeping().execute(this::close);
    }

    private void declareTopology(Channel channel) throws IOException {
        Topology.declareUnrouted(channel);
        Topology.declareDeadLetters(channel);
        if (options.isPartitioned()) {
            String partitions = queues.declarePartitions(channel);
            for (String pattern : patterns) {
                String exchange = RoutingKey.exchangeOf(pattern);
                Topology.declareEventExchange(channel, exchange);
                channel.exchangeBind(partitions, exchange, pattern);
            }
            return;
        }
        queues.declareWorkQueue();
        for (String pattern : patterns) {
            String exchange = RoutingKey.exchangeOf(pattern);
            Topology.declareEventExchange(channel, exchange);
            channel.queueBind(options.queue(), exchange, pattern);
        }
    }

    private final class Consumer extends DefaultConsumer {
        private final Slot slot;

        Consumer(Channel channel, Slot slot) {
            super(channel);
            this.slot = slot;
        }

        @Override
        public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
            running.incrementAndGet();
            try {
                handle(getChannel(), slot.queue, envelope, props, body, slot.processor);
            } finally {
                if (running.decrementAndGet() == 0) {
                    synchronized (running) {
                        running.notifyAll();
                    }
                }
            }
        }

        @Override
        public void handleCancel(String consumerTag) {
            if (getChannel() == slot.channel) {
                restart(slot, "RabbitMQ cancelled the consumer; was the queue deleted?");
            }
        }

        @Override
        public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
            if (!closing && !sig.isInitiatedByApplication() && sig.isHardError()) {
                LOG.warn(
                        "Subscriber {}: connection lost ({}); it recovers by itself, and unacknowledged messages"
                                + " will be redelivered",
                        name,
                        BrokerErrors.describe(sig));
            }
        }
    }

    private void handle(
            Channel channel,
            String queue,
            Envelope envelope,
            AMQP.BasicProperties props,
            byte[] body,
            Processor processor) {
        Map<String, Object> headers = AmqpValues.handlerHeaders(envelope, props);
        int retries = AmqpValues.countHeader(headers, Headers.RETRY_COUNT);
        if (retries > options.maxRetries()) {
            retries = 0; // more than this subscription ever counts: not written by it
        }
        if (headers.containsKey(Headers.RETRY_COUNT)) {
            headers.put(Headers.RETRY_COUNT, retries); // what the SDK goes by, not a value it did not write
        }
        long tag = envelope.getDeliveryTag();
        try {
            for (int attempt = retries; ; attempt++) {
                long started = System.nanoTime();
                Throwable retry = attempt(channel, queue, envelope, props, body, headers, processor, attempt, started);
                if (retry == null) {
                    return; // settled
                }
                long took = System.nanoTime() - started;
                Duration asked = retry instanceof RetryException r ? r.delay() : null;
                if (!options.isPartitioned()) {
                    settled(retryOrExhaust(channel, envelope, props, body, attempt, retry, asked), took);
                    return;
                }
                // Partitioned: retried in place, so the partition's later messages (its keys') wait for it.
                if (attempt >= options.maxRetries()) {
                    deadLetter(
                            channel, queue, envelope, props, body, attempt, DeadLetterReason.RETRIES_EXHAUSTED, retry);
                    settled(SubscriberMetrics.Outcome.RETRIES_EXHAUSTED, took);
                    return;
                }
                settled(SubscriberMetrics.Outcome.RETRIED, took);
                if (!waitUnlessClosing(asked != null ? asked : options.backoffFor(attempt + 1))) {
                    channel.basicNack(
                            tag, false, true); // closing: back to the front of its queue, for the next consumer
                    return;
                }
                headers.put(Headers.RETRY_COUNT, attempt + 1);
            }
        } catch (IOException | AlreadyClosedException e) {
            // Not acknowledged: RabbitMQ redelivers it once the channel is back.
            LOG.warn(
                    "Subscriber {}: could not settle message {} ({}); it will be redelivered",
                    name,
                    props.getMessageId(),
                    e.getMessage());
            try {
                if (channel.isOpen()) {
                    channel.basicNack(tag, false, true);
                }
            } catch (IOException | AlreadyClosedException ignored) {
                // the broker requeues it when the channel closes
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Calls the handler once and settles the message, unless it is to be retried: then returns
     * why (a {@link RetryException}, or any failure under retryAllExceptions) and leaves it unsettled.
     */
    private Throwable attempt(
            Channel channel,
            String queue,
            Envelope envelope,
            AMQP.BasicProperties props,
            byte[] body,
            Map<String, Object> headers,
            Processor processor,
            int retries,
            long started)
            throws IOException, InterruptedException {
        long tag = envelope.getDeliveryTag();
        try {
            processTraced(queue, envelope, headers, body, props, processor);
        } catch (RetryException e) {
            return e;
        } catch (BadMessageException e) {
            long took = System.nanoTime() - started;
            deadLetter(channel, queue, envelope, props, body, retries, DeadLetterReason.REJECTED, e);
            settled(SubscriberMetrics.Outcome.REJECTED, took);
            return null;
        } catch (Exception | Error e) {
            long took = System.nanoTime() - started;
            if (isPassingFault(e)) {
                requeueAfterBackoff(channel, envelope, props, e);
                settled(SubscriberMetrics.Outcome.REQUEUED, took);
                return null;
            }
            // An Error too: left to the client, it closed the channel and the message came back to do it again.
            if (e instanceof Error) {
                LOG.error(
                        "Subscriber {}: handler threw {} on message {}; settling it as a failure, the subscription"
                                + " goes on",
                        name,
                        e,
                        props.getMessageId());
            }
            if (options.retryAllExceptions()) {
                return e;
            }
            LOG.warn(
                    "Subscriber {}: handler failed on message {} ({}); dead-lettering it",
                    name,
                    props.getMessageId(),
                    e.toString());
            deadLetter(channel, queue, envelope, props, body, retries, DeadLetterReason.REJECTED, e);
            settled(SubscriberMetrics.Outcome.REJECTED, took);
            return null;
        }
        // Outside the handler's try: a channel lost while acknowledging is the broker's fault, not the
        // message's, and must not dead-letter it; the caller lets RabbitMQ redeliver it.
        long took = System.nanoTime() - started;
        channel.basicAck(tag, false);
        passingFaults.set(0);
        settled(SubscriberMetrics.Outcome.HANDLED, took);
        return null;
    }

    /** The handler call in a consumer span that continues the message's trace (none without tracing). */
    private void processTraced(
            String queue,
            Envelope envelope,
            Map<String, Object> headers,
            byte[] body,
            AMQP.BasicProperties props,
            Processor processor)
            throws Exception {
        EventTracing.HandlerSpan span;
        try {
            span = options.tracing().startHandlerSpan(queue, envelope.getRoutingKey(), headers);
        } catch (RuntimeException tracingFailed) {
            // Tracing is an observer: a broken tracer must not fail the message.
            LOG.warn(
                    "Subscriber {}: could not start the handler's span ({}); handling without it",
                    name,
                    tracingFailed.toString());
            span = EventTracing.HandlerSpan.NONE;
        }
        try (EventTracing.HandlerSpan running = span) {
            try {
                processor.process(headers, body, props);
            } catch (Exception | Error e) {
                running.failed(e);
                throw e;
            }
        }
    }

    /** Waits {@code delay}, in steps, unless the subscriber closes meanwhile; false when it does. */
    private boolean waitUnlessClosing(Duration delay) throws InterruptedException {
        long until = System.nanoTime() + delay.toNanos();
        while (!closing) {
            long left = until - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            Thread.sleep(Math.max(1, Math.min(100, left / 1_000_000)));
        }
        return false;
    }

    /**
     * A fault that passes by itself, not the message's: the database or the network went away
     * (SQLSTATE class 08, {@code 57P01}-{@code 57P03} while PostgreSQL restarts, class 53 out of
     * resources) or the transaction lost a race (deadlock {@code 40P01}, serialization failure
     * {@code 40001}). Dead-lettering on it would fill dead_letters with healthy messages.
     */
    static boolean isPassingFault(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.sql.SQLTransientException || t instanceof java.sql.SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08")
                        || state.startsWith("40")
                        || state.startsWith("53")
                        || state.startsWith("57P")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Puts the message back on its queue after a backoff that grows while passing faults go on
     * (200 ms doubling to 30 s; this consumer waits meanwhile, as the next message would meet
     * the same fault), and resets at the next success. Its retry count is not touched.
     */
    private void requeueAfterBackoff(Channel channel, Envelope envelope, AMQP.BasicProperties props, Throwable fault)
            throws IOException {
        int n = passingFaults.incrementAndGet();
        long delay = Math.min(30_000, 200L << Math.min(n - 1, 8));
        LOG.warn(
                "Subscriber {}: passing fault on message {} ({}); requeueing it in {} ms",
                name,
                props.getMessageId(),
                describe(fault),
                delay);
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.basicNack(envelope.getDeliveryTag(), false, true);
    }

    private void settled(boolean retried, long handlerNanos) {
        settled(
                retried ? SubscriberMetrics.Outcome.RETRIED : SubscriberMetrics.Outcome.RETRIES_EXHAUSTED,
                handlerNanos);
    }

    /** Metrics are the application's code: a failure there must not unsettle a settled message. */
    private void settled(SubscriberMetrics.Outcome outcome, long handlerNanos) {
        try {
            metrics.settled(options.queue(), outcome, handlerNanos);
        } catch (RuntimeException e) {
            LOG.debug("Subscriber {}: metrics failed to record {}", name, outcome, e);
        }
    }

    /** Returns true when the message went to a retry queue, false when it was dead-lettered instead. */
    private boolean retryOrExhaust(
            Channel channel,
            Envelope envelope,
            AMQP.BasicProperties props,
            byte[] body,
            int retries,
            Throwable error,
            Duration askedDelay)
            throws IOException, InterruptedException {
        if (retries >= options.maxRetries()) {
            LOG.info(
                    "Subscriber {}: message {} failed after {} retries; dead-lettering it (retries_exhausted)",
                    name,
                    props.getMessageId(),
                    retries);
            deadLetter(
                    channel,
                    options.queue(),
                    envelope,
                    props,
                    body,
                    retries,
                    DeadLetterReason.RETRIES_EXHAUSTED,
                    error);
            return false;
        }
        Duration delay = askedDelay != null ? askedDelay : options.backoffFor(retries + 1);
        Map<String, Object> headers = forwardedHeaders(envelope, props);
        headers.put(Headers.RETRY_COUNT, retries + 1);
        headers.put(Headers.ERROR, describe(error));
        republisher.publish(
                "", queues.retryQueue(delay), props.builder().headers(headers).build(), body);
        channel.basicAck(envelope.getDeliveryTag(), false);
        LOG.debug("Subscriber {}: message {} retry {} in {}", name, props.getMessageId(), retries + 1, delay);
        return true;
    }

    /** {@code queue}: the queue it died in (a partition's, for a partitioned subscription), where a replay puts it back. */
    private void deadLetter(
            Channel channel,
            String queue,
            Envelope envelope,
            AMQP.BasicProperties props,
            byte[] body,
            int retries,
            String reason,
            Throwable error)
            throws IOException, InterruptedException {
        Map<String, Object> headers = forwardedHeaders(envelope, props);
        headers.put(Headers.DEAD_LETTER_REASON, reason);
        headers.put(Headers.DEAD_LETTER_QUEUE, queue);
        headers.put(Headers.DEAD_LETTER_ID, UUID.randomUUID().toString());
        headers.put(Headers.DEAD_LETTERED_AT, Instant.now().toString());
        headers.put(Headers.RETRY_COUNT, retries);
        headers.put(Headers.ERROR, describe(error));
        String routingKey = String.valueOf(headers.get(Headers.ORIGINAL_ROUTING_KEY));
        republisher.publish(
                Topology.DLX, routingKey, props.builder().headers(headers).build(), body);
        channel.basicAck(envelope.getDeliveryTag(), false);
    }

    /** The message's own headers plus where it was first published (never what a publisher claims: see AmqpValues.origin). */
    private static Map<String, Object> forwardedHeaders(Envelope envelope, AMQP.BasicProperties props) {
        Map<String, Object> headers = props.getHeaders() == null ? new HashMap<>() : new HashMap<>(props.getHeaders());
        AmqpValues.Origin origin = AmqpValues.origin(envelope, AmqpValues.headers(props));
        headers.put(Headers.ORIGINAL_EXCHANGE, origin.exchange());
        headers.put(Headers.ORIGINAL_ROUTING_KEY, origin.routingKey());
        return headers;
    }

    private static JsonNode parse(byte[] body) throws BadMessageException {
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || node.isMissingNode()) {
                throw new BadMessageException("body is empty, not JSON", null);
            }
            return node;
        } catch (IOException e) {
            throw new BadMessageException(
                    "body is not valid JSON (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static String describe(Throwable error) {
        String text = error.getClass().getName() + ": " + error.getMessage();
        return text.length() <= MAX_ERROR_LENGTH ? text : text.substring(0, MAX_ERROR_LENGTH) + "...";
    }

    /** Stops taking messages, waits for running handlers (bounded), and closes the channels. */
    @Override
    public void close() {
        List<Slot> open;
        synchronized (this) {
            if (closedForGood) {
                return;
            }
            closing = true;
            open = new ArrayList<>(slots);
        }
        for (Slot slot : open) {
            Channel channel = slot.channel;
            try {
                if (channel != null && channel.isOpen() && slot.tag != null) {
                    channel.basicCancel(slot.tag);
                }
            } catch (IOException | AlreadyClosedException ignored) {
                // closing anyway
            }
        }
        long deadline = System.currentTimeMillis() + options.closeTimeout().toMillis();
        synchronized (running) {
            while (running.get() > 0 && System.currentTimeMillis() < deadline) {
                try {
                    running.wait(Math.max(1, deadline - System.currentTimeMillis()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (running.get() > 0) {
            LOG.warn(
                    "Subscriber {}: {} handlers still running after {}; their messages will be redelivered",
                    name,
                    running.get(),
                    options.closeTimeout());
        }
        open.forEach(slot -> closeQuietly(slot.channel));
        republisher.close();
        if (connections != null) {
            connections.close();
        }
        if (housekeeping != null) {
            housekeeping.shutdownNow();
        }
        closedForGood = true;
        closed.countDown();
        if (failure == null) {
            LOG.info("Subscriber {} closed", name);
        }
    }

    private static void closeQuietly(Channel channel) {
        try {
            if (channel != null && channel.isOpen()) {
                channel.close();
            }
        } catch (IOException | java.util.concurrent.TimeoutException | AlreadyClosedException ignored) {
            // closing anyway
        }
    }
}
