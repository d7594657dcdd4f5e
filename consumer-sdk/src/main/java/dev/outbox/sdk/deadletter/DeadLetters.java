package dev.outbox.sdk.deadletter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import dev.outbox.protocol.AmqpValues;
import dev.outbox.protocol.DeadLetterReason;
import dev.outbox.protocol.Headers;
import dev.outbox.protocol.RoutingKey;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.internal.ConfirmingChannel;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Inspect, replay or discard captured dead letters one by one (the {@code dead_letters}
 * table). A replay publishes the message back to the queue it died in (for {@code unroutable}
 * and {@code relay_error}: to its original exchange and routing key), with its retry count
 * reset, and marks the row {@code replayed}. Thread-safe.
 */
public final class DeadLetters implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> NOT_REPLAYED = Set.of(
            Headers.DEAD_LETTER_REASON,
            Headers.DEAD_LETTER_QUEUE,
            Headers.DEAD_LETTER_ID,
            Headers.DEAD_LETTERED_AT,
            Headers.ERROR,
            Headers.RETRY_COUNT,
            Headers.BODY_OMITTED_BYTES);
    private static final String COLUMNS =
            "id, message_id, exchange, routing_key, queue, reason, retry_count, last_error,"
                    + " headers::text, properties::text, body, body_json::text, dead_lettered_at, captured_at, status, replayed_at";

    private final DataSource dataSource;
    private final ConfirmingChannel publisher;

    public DeadLetters(DataSource dataSource, Broker broker) {
        this.dataSource = dataSource;
        this.publisher = broker == null ? null : new ConfirmingChannel(broker);
    }

    /** Which rows {@link #list} returns; {@code null} fields match anything. */
    public record Filter(String queue, String reason, String status, int limit) {
        public static Filter all() {
            return new Filter(null, null, null, 100);
        }
    }

    public List<DeadLetter> list(Filter filter) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM dead_letters WHERE true");
        List<String> args = new ArrayList<>();
        if (filter.queue() != null) {
            sql.append(" AND queue = ?");
            args.add(filter.queue());
        }
        if (filter.reason() != null) {
            sql.append(" AND reason = ?");
            args.add(filter.reason());
        }
        if (filter.status() != null) {
            sql.append(" AND status = ?");
            args.add(filter.status());
        }
        sql.append(" ORDER BY id LIMIT ").append(Math.max(1, filter.limit()));
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setString(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                List<DeadLetter> result = new ArrayList<>();
                while (rs.next()) {
                    result.add(read(rs));
                }
                return result;
            }
        }
    }

    public Optional<DeadLetter> show(long id) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM dead_letters WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    /**
     * Replays one dead letter and marks it {@code replayed}, or throws leaving the row as it was.
     * Only a row in status {@code new} is replayed, once: the row is locked while it is
     * published, so two replays of it at once publish it once.
     *
     * @throws IllegalArgumentException when there is no such row
     * @throws IllegalStateException    when it is not {@code new}, or kept no body (see {@link #replay(long, boolean)})
     */
    public void replay(long id) throws SQLException, IOException, InterruptedException {
        replay(id, false);
    }

    /**
     * As {@link #replay(long)}; with {@code force}, also a dead letter whose body was not kept
     * (header {@code body-omitted-bytes}: larger than the broker takes), which is then published
     * with an empty body.
     */
    public void replay(long id, boolean force) throws SQLException, IOException, InterruptedException {
        if (publisher == null) {
            throw new IllegalStateException("replay needs a broker: construct DeadLetters with one");
        }
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                DeadLetter d;
                try (PreparedStatement ps =
                        c.prepareStatement("SELECT " + COLUMNS + " FROM dead_letters WHERE id = ? FOR UPDATE")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new IllegalArgumentException("no dead letter with id " + id);
                        }
                        d = read(rs);
                    }
                }
                if (!"new".equals(d.status())) {
                    throw new IllegalStateException("dead letter " + id + " is " + d.status()
                            + (d.replayedAt() == null ? "" : " (at " + d.replayedAt() + ")")
                            + "; only new ones are replayed");
                }
                if (d.headers().hasNonNull(Headers.BODY_OMITTED_BYTES) && !force) {
                    throw new IllegalStateException(
                            "dead letter " + id + " kept no body (it had "
                                    + d.headers()
                                            .get(Headers.BODY_OMITTED_BYTES)
                                            .asText() + " bytes, more than the broker takes);"
                                    + " replaying it publishes an empty body: replay it with force (--force) if that is what you want");
                }
                // Never to a place the message's own headers chose: an event goes to the exchange its routing
                // key names (the contract every publisher keeps), anything else back to the queue it died in.
                boolean toExchange = DeadLetterReason.UNROUTABLE.equals(d.reason())
                        || DeadLetterReason.RELAY_ERROR.equals(d.reason());
                if (toExchange && !RoutingKey.isValid(d.routingKey())) {
                    throw new IllegalStateException("dead letter " + id + " has routing key '" + d.routingKey()
                            + "', which names no exchange to replay it to; discard it, or publish its body anew");
                }
                String exchange = toExchange ? RoutingKey.exchangeOf(d.routingKey()) : "";
                String routingKey = toExchange ? d.routingKey() : d.queue();
                if (routingKey == null) {
                    throw new IllegalStateException("dead letter " + id + " names no queue to replay to");
                }
                publisher.publish(exchange, routingKey, properties(d), d.body());
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE dead_letters SET status = 'replayed', replayed_at = now() WHERE id = ?")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
                c.commit();
            } catch (Exception e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** Replays each id; returns how many were replayed, and throws the first failure after trying all. */
    public int replay(List<Long> ids) throws SQLException, IOException, InterruptedException {
        int replayed = 0;
        Exception first = null;
        for (long id : ids) {
            try {
                replay(id);
                replayed++;
            } catch (SQLException | IOException | RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first instanceof SQLException s) {
            throw s;
        }
        if (first instanceof IOException io) {
            throw io;
        }
        if (first instanceof RuntimeException r) {
            throw r;
        }
        return replayed;
    }

    /** Replays every {@code new} dead letter of {@code queue}, oldest first. */
    public int replayQueue(String queue) throws SQLException, IOException, InterruptedException {
        List<Long> ids = new ArrayList<>();
        for (DeadLetter d : list(new Filter(queue, null, "new", Integer.MAX_VALUE))) {
            ids.add(d.id());
        }
        return replay(ids);
    }

    /** Marks the {@code new} ones of {@code ids} {@code discarded}; returns how many rows changed. */
    public int discard(List<Long> ids) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE dead_letters SET status = 'discarded', discarded_at = now() WHERE id = ANY (?) AND status = 'new'")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            return ps.executeUpdate();
        }
    }

    private static AMQP.BasicProperties properties(DeadLetter d) {
        Map<String, Object> headers = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = d.headers().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().startsWith("x-") || NOT_REPLAYED.contains(e.getKey())) {
                continue;
            }
            headers.put(
                    e.getKey(),
                    e.getValue().isTextual()
                            ? e.getValue().asText()
                            : e.getValue().toString());
        }
        headers.put(Headers.REPLAY_COUNT, Math.min(AmqpValues.MAX_COUNT - 1, replayCount(d.headers())) + 1);
        JsonNode p = d.properties();
        AMQP.BasicProperties.Builder b = new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .contentType(p.path("content-type").asText("application/json"))
                .headers(headers);
        if (p.hasNonNull("message-id")) {
            b.messageId(p.get("message-id").asText());
        }
        if (p.hasNonNull("app-id")) {
            b.appId(p.get("app-id").asText());
        }
        if (p.hasNonNull("correlation-id")) {
            b.correlationId(p.get("correlation-id").asText());
        }
        if (p.hasNonNull("timestamp")) {
            b.timestamp(Date.from(Instant.parse(p.get("timestamp").asText())));
        }
        return b.build();
    }

    private static int replayCount(JsonNode headers) {
        JsonNode count = headers.path(Headers.REPLAY_COUNT);
        if (count.isIntegralNumber() && count.canConvertToLong()) {
            return AmqpValues.count(count.longValue());
        }
        return count.isTextual() ? AmqpValues.count(count.asText()) : 0;
    }

    private static DeadLetter read(ResultSet rs) throws SQLException {
        return new DeadLetter(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                rs.getInt(7),
                rs.getString(8),
                json(rs.getString(9)),
                json(rs.getString(10)),
                rs.getBytes(11),
                rs.getString(12) == null ? null : json(rs.getString(12)),
                instant(rs.getTimestamp(13)),
                instant(rs.getTimestamp(14)),
                rs.getString(15),
                instant(rs.getTimestamp(16)));
    }

    private static JsonNode json(String text) {
        try {
            return text == null ? JSON.createObjectNode() : JSON.readTree(text);
        } catch (IOException e) {
            ObjectNode broken = JSON.createObjectNode();
            broken.put("unreadable", text);
            return broken;
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    @Override
    public void close() {
        if (publisher != null) {
            publisher.close();
        }
    }
}
