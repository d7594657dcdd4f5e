package dev.outbox.sdk;

import com.rabbitmq.client.Channel;
import dev.outbox.protocol.BrokerErrors;
import dev.outbox.protocol.Topology;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queues of one subscription: its work queue and its retry queues, and their arguments.
 *
 * <p>Quorum queues (the default) dead-letter {@code at-least-once} with
 * {@code x-overflow: reject-publish}: a message leaves a retry queue, or the work queue for
 * DLX, only once its target has it, so a broker node restart between the two loses nothing.
 * Retry queues ({@code <queue>.retry.<millis>}) are a bounded set: a delay is rounded up to the
 * next of the subscription's own backoff steps and a fixed ladder, at most 24 h. Each expires
 * when unused ({@code x-expires}); the subscriber declares it again, renewing its lease, before
 * a message put in it could outlive it.
 *
 * <p>A queue that already exists with other arguments (declared by an earlier version, or by
 * hand) is used as it is, with one WARN that says what it lacks and how to give it the new
 * arguments without losing messages: RabbitMQ refuses to change a queue's arguments in place.
 */
final class SubscriptionQueues {

    private static final Logger LOG = LoggerFactory.getLogger(SubscriptionQueues.class);

    /** Delays a retry queue may have besides the subscription's own backoff steps. */
    static final List<Duration> LADDER = List.of(
            Duration.ofMillis(100),
            Duration.ofMillis(250),
            Duration.ofMillis(500),
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            Duration.ofSeconds(30),
            Duration.ofMinutes(1),
            Duration.ofMinutes(2),
            Duration.ofMinutes(5),
            Duration.ofMinutes(10),
            Duration.ofMinutes(30),
            Duration.ofHours(1),
            Duration.ofHours(2),
            Duration.ofHours(6),
            Duration.ofHours(12),
            Duration.ofHours(24));
    /** How long past its delay an unused retry queue lives; it is declared again well before. */
    private static final long LEASE_MARGIN_MILLIS = Duration.ofMinutes(10).toMillis();

    private final Broker broker;
    private final SubscriptionOptions options;
    private final TreeSet<Long> delays = new TreeSet<>();
    /** When each retry queue was last declared (its lease renewed), by delay. */
    private final Map<Long, Long> declaredAt = new ConcurrentHashMap<>();

    private final java.util.Set<String> warned = ConcurrentHashMap.newKeySet();

    SubscriptionQueues(Broker broker, SubscriptionOptions options) {
        this.broker = broker;
        this.options = options;
        for (int attempt = 1; attempt <= Math.min(options.maxRetries(), 64); attempt++) {
            delays.add(Math.max(1, options.backoffFor(attempt).toMillis()));
        }
        LADDER.forEach(d -> delays.add(d.toMillis()));
    }

    private boolean quorum() {
        return options.queueType() == SubscriptionOptions.QueueType.QUORUM;
    }

    Map<String, Object> workQueueArguments() {
        Map<String, Object> args = new HashMap<>();
        args.put("x-dead-letter-exchange", Topology.DLX);
        if (quorum()) {
            args.put("x-queue-type", "quorum");
            args.put("x-dead-letter-strategy", "at-least-once");
            args.put("x-overflow", "reject-publish");
            if (options.deliveryLimit() > 0) {
                args.put("x-delivery-limit", options.deliveryLimit());
            }
        }
        if (options.messageTtl() != null) {
            args.put("x-message-ttl", options.messageTtl().toMillis());
        }
        return args;
    }

    Map<String, Object> retryQueueArguments(long delayMillis) {
        Map<String, Object> args = new HashMap<>();
        args.put("x-message-ttl", delayMillis);
        args.put("x-dead-letter-exchange", "");
        args.put("x-dead-letter-routing-key", options.queue());
        args.put("x-expires", 2 * delayMillis + LEASE_MARGIN_MILLIS);
        if (quorum()) {
            args.put("x-queue-type", "quorum");
            args.put("x-dead-letter-strategy", "at-least-once");
            args.put("x-overflow", "reject-publish");
        }
        return args;
    }

    /** The delay of the retry queue for {@code asked}: the next one at or above it, the longest if none. */
    long retryDelay(Duration asked) {
        long millis = Math.max(1, asked.toMillis());
        Long step = delays.ceiling(millis);
        return step != null ? step : delays.last();
    }

    static String retryQueueName(String queue, long delayMillis) {
        return queue + ".retry." + delayMillis;
    }

    void declareWorkQueue() throws IOException {
        declare(options.queue(), workQueueArguments());
    }

    /** The queues this subscription consumes: its work queue, or its partition queues. */
    List<String> consumedQueues() {
        if (!options.isPartitioned()) {
            return List.of(options.queue());
        }
        List<String> queues = new java.util.ArrayList<>();
        for (int i = 0; i < options.partitions(); i++) {
            queues.add(partitionQueueName(options.queue(), i));
        }
        return queues;
    }

    static String partitionQueueName(String queue, int partition) {
        return queue + ".p" + partition;
    }

    static String partitionExchangeName(String queue) {
        return queue + ".partitions";
    }

    Map<String, Object> partitionQueueArguments() {
        Map<String, Object> args = workQueueArguments();
        args.put("x-single-active-consumer", true);
        return args;
    }

    /**
     * The consistent-hash exchange that spreads the subscription's messages by the hash of its
     * key header, and the partition queues bound to it with equal weight. Returns the exchange,
     * for the event exchanges to be bound to.
     */
    String declarePartitions(Channel channel) throws IOException {
        String exchange = partitionExchangeName(options.queue());
        try {
            channel.exchangeDeclare(
                    exchange, "x-consistent-hash", true, false, Map.of("hash-header", options.partitionKey()));
        } catch (IOException e) {
            if (BrokerErrors.describe(e).contains("invalid exchange type")
                    || BrokerErrors.describe(e).contains("x-consistent-hash")) {
                throw new IOException(
                        "partitioned subscription " + options.queue() + " needs RabbitMQ's consistent-hash exchange:"
                                + " rabbitmq-plugins enable rabbitmq_consistent_hash_exchange ("
                                + BrokerErrors.describe(e) + ")",
                        e);
            }
            throw e;
        }
        for (String queue : consumedQueues()) {
            declare(queue, partitionQueueArguments());
            channel.queueBind(queue, exchange, "1");
        }
        return exchange;
    }

    /**
     * The retry queue a message waits {@code asked} in (rounded up, see the class), declared
     * when first used and again before its lease could run out under a message put in it now.
     */
    String retryQueue(Duration asked) throws IOException {
        long delay = retryDelay(asked);
        String name = retryQueueName(options.queue(), delay);
        long now = System.currentTimeMillis();
        Long last = declaredAt.get(delay);
        // A message put in now leaves at now + delay; the queue lives until last + 2 * delay + margin.
        if (last == null || now - last > delay + LEASE_MARGIN_MILLIS / 2) {
            declare(name, retryQueueArguments(delay));
            declaredAt.put(delay, now);
        }
        return name;
    }

    private void declare(String queue, Map<String, Object> args) throws IOException {
        Channel channel = broker.createChannel();
        try {
            channel.queueDeclare(queue, true, false, false, args);
        } catch (IOException e) {
            if (BrokerErrors.replyCode(e) != 406 || !BrokerErrors.describe(e).contains("inequivalent arg")) {
                throw e;
            }
            keepExisting(queue, args, e);
        } finally {
            closeQuietly(channel);
        }
    }

    /** The queue exists with other arguments: use it as it is (it must exist), and say once what that means. */
    private void keepExisting(String queue, Map<String, Object> args, IOException refusal) throws IOException {
        Channel channel = broker.createChannel();
        try {
            channel.queueDeclarePassive(queue);
        } finally {
            closeQuietly(channel);
        }
        if (warned.add(queue)) {
            LOG.warn(
                    "Queue {} exists with other arguments than this version declares ({}); it is used as it is. Wanted: {}."
                            + " Until it has them, what they give is missing (for a quorum queue: at-least-once dead-lettering"
                            + " through a node restart; for a retry queue: expiry when unused). RabbitMQ cannot change them in"
                            + " place: apply them with a policy (rabbitmqctl set_policy), or stop the subscribers, let the queue"
                            + " drain, delete it and start them again.",
                    queue,
                    BrokerErrors.describe(refusal),
                    args);
        }
    }

    private static void closeQuietly(Channel channel) {
        try {
            if (channel.isOpen()) {
                channel.close();
            }
        } catch (IOException | TimeoutException | com.rabbitmq.client.AlreadyClosedException ignored) {
            // closing anyway
        }
    }
}
