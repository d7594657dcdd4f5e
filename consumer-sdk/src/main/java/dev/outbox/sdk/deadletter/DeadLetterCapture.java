package dev.outbox.sdk.deadletter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.outbox.protocol.AmqpValues;
import dev.outbox.protocol.BrokerErrors;
import dev.outbox.protocol.DeadLetterReason;
import dev.outbox.protocol.Headers;
import dev.outbox.protocol.RoutingKey;
import dev.outbox.protocol.Topology;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.internal.ConsumerCheck;
import dev.outbox.sdk.internal.IdleConnections;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores every dead letter in the {@code dead_letters} table: it consumes the queue
 * {@code dead_letters} (bound to {@code DLX} with {@code #}) and the relay's {@code unrouted}
 * queue (reason {@code unroutable}), inserts one row per message, and acknowledges only after
 * the insert committed. A redelivered copy of a message already stored (the capture died
 * between commit and ack) does not create a second row. While the database is down, messages
 * stay in the queue. A dead letter PostgreSQL cannot hold as it is is stored escaped, never
 * retried for ever; a channel the broker closes or a consumer it cancels is started again.
 */
public final class DeadLetterCapture implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterCapture.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> KNOWN_REASONS = Set.copyOf(DeadLetterReason.ALL);

    private final Broker broker;
    /** One open connection per captured queue: a new connection per dead letter capped the capture at about 50 a second. */
    private final IdleConnections connections;

    private final Map<String, Channel> channels = new java.util.concurrent.ConcurrentHashMap<>();
    private final ScheduledExecutorService restarter = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dead-letter-capture-restart");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    public DeadLetterCapture(Broker broker, DataSource dataSource) {
        this.broker = broker;
        this.connections = new IdleConnections(dataSource, 2);
    }

    /** Declares DLX, dead_letters and unrouted (idempotently) and starts consuming both queues. */
    public synchronized void start() throws IOException {
        for (String queue : List.of(Topology.DEAD_LETTERS_QUEUE, Topology.UNROUTED)) {
            consume(queue);
        }
        long every = ConsumerCheck.INTERVAL.toMillis();
        restarter.scheduleWithFixedDelay(this::checkConsumers, every, every, TimeUnit.MILLISECONDS);
        LOG.info(
                "Capturing dead letters from queues {} and {} into table dead_letters",
                Topology.DEAD_LETTERS_QUEUE,
                Topology.UNROUTED);
    }

    /**
     * Consumes {@code queue} on a channel of its own. When the broker closes that channel (a
     * channel error, or {@code consumer_timeout} after a long database outage held a delivery)
     * or cancels the consumer (the queue was deleted), the capture starts over on a new
     * channel, declaring the queue again; the connection's own recovery covers a lost connection.
     */
    private synchronized void consume(String queue) throws IOException {
        Channel channel = broker.createChannel();
        try {
            Topology.declareDeadLetters(channel);
            Topology.declareUnrouted(channel);
            channel.basicQos(100);
            boolean unrouted = queue.equals(Topology.UNROUTED);
            channel.addShutdownListener(cause -> {
                if (!cause.isHardError() && !cause.isInitiatedByApplication()) {
                    restart(queue, "the broker closed its channel: " + BrokerErrors.describe(cause));
                }
            });
            channel.basicConsume(queue, false, "dead-letter-capture", new DefaultConsumer(channel) {
                @Override
                public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                    capture(getChannel(), envelope, props, body, unrouted);
                }

                @Override
                public void handleCancel(String consumerTag) {
                    restart(queue, "the broker cancelled its consumer (the queue was deleted?)");
                }
            });
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
        channels.put(queue, channel);
    }

    /** A consumer RabbitMQ dropped without a word (see ConsumerCheck) is started again. */
    private void checkConsumers() {
        if (closed) {
            return;
        }
        for (String queue : ConsumerCheck.withoutConsumers(broker, channels.keySet())) {
            restart(queue, "RabbitMQ lists no consumer on it any more, though none was cancelled");
        }
    }

    private void restart(String queue, String why) {
        if (closed) {
            return;
        }
        LOG.warn("Dead-letter capture of queue {} stopped ({}); starting it again", queue, why);
        Channel old = channels.remove(queue);
        if (old != null) {
            restarter.execute(() -> closeQuietly(old));
        }
        scheduleRestart(queue, 0);
    }

    private void scheduleRestart(String queue, int attempt) {
        long delay = Math.min(30_000, 200L << Math.min(attempt, 8));
        restarter.schedule(
                () -> {
                    if (closed) {
                        return;
                    }
                    try {
                        consume(queue);
                        LOG.info("Dead-letter capture of queue {} resumed", queue);
                    } catch (IOException | RuntimeException e) {
                        LOG.warn(
                                "Dead-letter capture of queue {} not resumed yet ({}); retrying",
                                queue,
                                BrokerErrors.describe(e));
                        scheduleRestart(queue, attempt + 1);
                    }
                },
                attempt == 0 ? 0 : delay,
                TimeUnit.MILLISECONDS);
    }

    private static void closeQuietly(Channel channel) {
        try {
            if (channel.isOpen()) {
                channel.close();
            }
        } catch (IOException | java.util.concurrent.TimeoutException | AlreadyClosedException ignored) {
            // closing anyway
        }
    }

    private void capture(
            Channel channel, Envelope envelope, AMQP.BasicProperties props, byte[] body, boolean unrouted) {
        long backoff = 200;
        Row row = row(envelope, props, body, unrouted);
        while (channel.isOpen()) {
            try {
                boolean inserted = store(row);
                channel.basicAck(envelope.getDeliveryTag(), false);
                if (inserted) {
                    LOG.debug("Captured dead letter of message {}", props.getMessageId());
                }
                return;
            } catch (SQLException e) {
                LOG.warn(
                        "Cannot store dead letter of message {} ({}); retrying in {} ms, it stays in the queue meanwhile",
                        props.getMessageId(),
                        e.getMessage(),
                        backoff);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoff = Math.min(10_000, backoff * 2);
            } catch (IOException | AlreadyClosedException e) {
                LOG.warn(
                        "Dead letter of message {} stored but not acknowledged ({}); its redelivery will be"
                                + " recognised and not stored twice",
                        props.getMessageId(),
                        e.getMessage());
                return;
            }
        }
    }

    /**
     * Inserts {@code row}. A value PostgreSQL refuses (SQLSTATE class 22: a NUL character in
     * text or in a JSON string, a time out of its range) would be refused on every retry and
     * hold the queue behind it: the row is stored again with such values escaped, and if even
     * that is refused, bare (its body as raw bytes, which {@code bytea} always holds). The
     * reason goes into {@code last_error}. Other failures (connection, restart) are thrown, to
     * be retried.
     */
    private boolean store(Row row) throws SQLException {
        try {
            return insert(row);
        } catch (SQLException refused) {
            if (!isDataRefusal(refused)) {
                throw refused;
            }
            String why = "PostgreSQL refused it as it was (" + refused.getSQLState() + " " + firstLine(refused) + ")";
            LOG.warn(
                    "Dead letter of message {}: {}; storing it with those values escaped, its body as raw bytes",
                    printable(row.messageId()),
                    why);
            try {
                return insert(row.escaped(why));
            } catch (SQLException again) {
                if (!isDataRefusal(again)) {
                    throw again;
                }
                LOG.warn(
                        "Dead letter of message {}: refused escaped too ({}); storing it bare",
                        printable(row.messageId()),
                        firstLine(again));
                return insert(row.bare(why + "; escaped: " + firstLine(again)));
            }
        }
    }

    static boolean isDataRefusal(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("22");
    }

    private static String firstLine(SQLException e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static String printable(String s) {
        return s == null ? null : Row.escape(s);
    }

    /** The columns of one dead letter. Package-private for tests. */
    record Row(
            String messageId,
            String exchange,
            String routingKey,
            String queue,
            String reason,
            int retryCount,
            String lastError,
            String headersJson,
            String propertiesJson,
            byte[] body,
            String bodyJson,
            Instant deadLetteredAt,
            String dedupeKey) {

        private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
        private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

        /** NUL, which PostgreSQL's text and jsonb cannot hold, as the six characters {@code \u0000}. */
        static String escape(String s) {
            return s == null || s.indexOf('\u0000') < 0 ? s : s.replace("\u0000", "\\u0000");
        }

        /** The same dead letter with every value PostgreSQL cannot hold escaped; the body as raw bytes only. */
        Row escaped(String why) {
            Instant at = deadLetteredAt.isBefore(EARLIEST) || deadLetteredAt.isAfter(LATEST)
                    ? Instant.now()
                    : deadLetteredAt;
            return new Row(
                    escape(messageId),
                    escape(exchange),
                    escape(routingKey),
                    escape(queue),
                    reason,
                    retryCount,
                    note(escape(lastError), why),
                    escapeJson(headersJson),
                    escapeJson(propertiesJson),
                    body,
                    null,
                    at,
                    dedupeKey);
        }

        /** The dead letter with nothing PostgreSQL could refuse: where it died, why, and its body as raw bytes. */
        Row bare(String why) {
            return new Row(
                    escape(messageId),
                    escape(exchange),
                    escape(routingKey),
                    escape(queue),
                    reason,
                    retryCount,
                    note(null, why),
                    "{}",
                    "{}",
                    body,
                    null,
                    Instant.now(),
                    dedupeKey);
        }

        private static String note(String lastError, String why) {
            return (lastError == null ? "" : lastError + "; ") + "stored escaped: " + why;
        }

        private static String escapeJson(String json) {
            try {
                return JSON.writeValueAsString(escapeTree(JSON.readTree(json)));
            } catch (IOException e) {
                return "{}";
            }
        }

        private static JsonNode escapeTree(JsonNode node) {
            if (node.isTextual()) {
                return com.fasterxml.jackson.databind.node.TextNode.valueOf(escape(node.asText()));
            }
            if (node.isObject()) {
                com.fasterxml.jackson.databind.node.ObjectNode out = JSON.createObjectNode();
                node.fields().forEachRemaining(f -> out.set(escape(f.getKey()), escapeTree(f.getValue())));
                return out;
            }
            if (node.isArray()) {
                com.fasterxml.jackson.databind.node.ArrayNode out = JSON.createArrayNode();
                node.forEach(v -> out.add(escapeTree(v)));
                return out;
            }
            return node;
        }
    }

    /**
     * The row for one dead letter. Who dead-lettered it decides which values are believed: the
     * SDK or the relay (headers {@code dead-letter-reason}, {@code dead-letter-queue},
     * {@code dead-lettered-at}, which they always overwrite), or RabbitMQ (its newest
     * {@code x-death} entry). Any publisher can set those headers on a message, so when both are
     * there the newer death wins, and a {@code dead-lettered-at} in the future is not believed.
     * For the unrouted queue, the routing key is the broker's and the exchange the one it names.
     */
    static Row row(Envelope envelope, AMQP.BasicProperties props, byte[] body, boolean unrouted) {
        Map<String, Object> headers = AmqpValues.headers(props);
        // x-death[0] is the newest death: a message that went through Q.retry.N (expired there, by
        // design) and then died in Q is listed under Q with its real reason, not under the first death.
        Map<String, Object> death = newestDeath(headers);
        Instant brokerDeadAt = death.get("time") instanceof Instant t ? t : null;
        Instant sdkDeadAt = parseInstant(headers.get(Headers.DEAD_LETTERED_AT));
        if (sdkDeadAt != null && sdkDeadAt.isAfter(Instant.now().plus(java.time.Duration.ofMinutes(5)))) {
            sdkDeadAt = null;
        }
        boolean bySdk = headers.get(Headers.DEAD_LETTER_REASON) != null
                && (death.isEmpty() || sdkDeadAt != null && (brokerDeadAt == null || !brokerDeadAt.isAfter(sdkDeadAt)));
        String reason;
        String queue;
        String exchange;
        String routingKey;
        Instant deadAt;
        if (unrouted) {
            reason = DeadLetterReason.UNROUTABLE;
            queue = Topology.UNROUTED;
            routingKey = envelope.getRoutingKey();
            exchange = RoutingKey.isValid(routingKey) ? RoutingKey.exchangeOf(routingKey) : envelope.getExchange();
            deadAt = Instant.now();
        } else if (bySdk) {
            reason = headers.get(Headers.DEAD_LETTER_REASON).toString();
            queue = firstNonNull(headers.get(Headers.DEAD_LETTER_QUEUE));
            exchange = firstNonNull(headers.get(Headers.ORIGINAL_EXCHANGE), envelope.getExchange());
            routingKey = firstNonNull(headers.get(Headers.ORIGINAL_ROUTING_KEY), envelope.getRoutingKey());
            deadAt = sdkDeadAt;
        } else {
            reason = firstNonNull(death.get("reason"), headers.get("x-first-death-reason"), DeadLetterReason.REJECTED);
            queue = firstNonNull(death.get("queue"), headers.get("x-first-death-queue"));
            Object deathKeys = death.get("routing-keys");
            String deathKey = deathKeys instanceof List<?> keys && !keys.isEmpty() ? String.valueOf(keys.get(0)) : null;
            // A message that died after a retry hop came into its queue through the default exchange; where it
            // was first published is then in original-*, which the SDK overwrote when it sent it to the hop.
            boolean viaDefault = "".equals(death.get("exchange"));
            exchange = viaDefault
                    ? firstNonNull(headers.get(Headers.ORIGINAL_EXCHANGE), "")
                    : firstNonNull(
                            death.get("exchange"), headers.get("x-first-death-exchange"), envelope.getExchange());
            routingKey = viaDefault
                    ? firstNonNull(headers.get(Headers.ORIGINAL_ROUTING_KEY), deathKey)
                    : firstNonNull(deathKey, envelope.getRoutingKey());
            deadAt = brokerDeadAt;
        }
        if (!KNOWN_REASONS.contains(reason)) {
            reason = DeadLetterReason.REJECTED;
        }
        if (deadAt == null) {
            deadAt = Instant.now();
        }
        int retries = AmqpValues.countHeader(headers, Headers.RETRY_COUNT);
        Object error = headers.get(Headers.ERROR);
        String bodyJson = null;
        try {
            JsonNode parsed = JSON.readTree(body);
            bodyJson = parsed == null || parsed.isMissingNode() ? null : parsed.toString();
        } catch (IOException notJson) {
            // kept as bytes only
        }
        String messageId = props.getMessageId();
        String dedupe;
        if (bySdk && headers.get(Headers.DEAD_LETTER_ID) != null) {
            dedupe = "id:" + headers.get(Headers.DEAD_LETTER_ID);
        } else {
            // One death of one message: the same message dying again (after a replay, or later
            // in another queue) differs in queue, reason, death count, time or replay count.
            dedupe = "h:"
                    + sha256(String.join(
                            "|",
                            String.valueOf(messageId == null ? sha256(body) : messageId),
                            String.valueOf(queue),
                            reason,
                            String.valueOf(death.get("count")),
                            String.valueOf(death.get("time")),
                            String.valueOf(headers.get(Headers.REPLAY_COUNT)),
                            String.valueOf(retries)));
        }
        return new Row(
                messageId,
                exchange,
                routingKey,
                queue,
                reason,
                retries,
                error == null ? null : error.toString(),
                toJson(AmqpValues.jsonSafe(props.getHeaders() == null ? Map.of() : props.getHeaders())),
                toJson(properties(props)),
                body,
                bodyJson,
                deadAt,
                dedupe);
    }

    private static Map<String, Object> properties(AMQP.BasicProperties props) {
        Map<String, Object> p = new LinkedHashMap<>();
        putIfSet(p, "message-id", props.getMessageId());
        putIfSet(p, "app-id", props.getAppId());
        putIfSet(p, "content-type", props.getContentType());
        putIfSet(p, "correlation-id", props.getCorrelationId());
        putIfSet(p, "type", props.getType());
        putIfSet(p, "delivery-mode", props.getDeliveryMode());
        putIfSet(
                p,
                "timestamp",
                props.getTimestamp() == null
                        ? null
                        : props.getTimestamp().toInstant().toString());
        return p;
    }

    private boolean insert(Row r) throws SQLException {
        Connection c = connections.take();
        boolean healthy = false;
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO dead_letters (message_id, exchange, routing_key, queue, reason, retry_count, last_error,"
                        + " headers, properties, body, body_json, dead_lettered_at, dedupe_key)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?::jsonb, ?, ?)"
                        + " ON CONFLICT (dedupe_key) DO NOTHING")) {
            ps.setString(1, r.messageId());
            ps.setString(2, r.exchange());
            ps.setString(3, r.routingKey());
            ps.setString(4, r.queue());
            ps.setString(5, r.reason());
            ps.setInt(6, r.retryCount());
            ps.setString(7, r.lastError());
            ps.setString(8, r.headersJson());
            ps.setString(9, r.propertiesJson());
            ps.setBytes(10, r.body());
            ps.setString(11, r.bodyJson());
            ps.setTimestamp(12, Timestamp.from(r.deadLetteredAt()));
            ps.setString(13, r.dedupeKey());
            if (!c.getAutoCommit()) {
                c.setAutoCommit(true);
            }
            boolean inserted = ps.executeUpdate() == 1;
            healthy = true;
            return inserted;
        } finally {
            connections.give(c, healthy);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> newestDeath(Map<String, Object> headers) {
        if (headers.get("x-death") instanceof List<?> deaths
                && !deaths.isEmpty()
                && deaths.get(0) instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        return Map.of();
    }

    private static String firstNonNull(Object... values) {
        for (Object v : values) {
            if (v != null) {
                return v.toString();
            }
        }
        return null;
    }

    private static Instant parseInstant(Object value) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value.toString());
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static void putIfSet(Map<String, Object> map, String key, Object value) {
        if (value != null) {
            map.put(key, value);
        }
    }

    private static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            return "{}";
        }
    }

    private static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        restarter.shutdownNow();
        for (Channel channel : channels.values()) {
            closeQuietly(channel);
        }
        channels.clear();
        connections.close();
    }
}
