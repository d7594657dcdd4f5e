package dev.outbox.db;

import dev.outbox.protocol.EventTracing;
import dev.outbox.protocol.OutboxEvent;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Appends events to the {@code events} table inside the caller's transaction: the Java form
 * of "save the entity and announce it" without a broker call in the request path.
 *
 * <p>The event becomes visible to the relay when, and only when, the caller's transaction
 * commits; a rollback discards it with the entity. {@code append} works on any
 * {@link Connection} (plain JDBC, Spring's {@code DataSourceUtils.getConnection}, jOOQ,
 * JPA via {@code unwrap(Connection.class)}) and never commits, rolls back or closes it.
 * On a connection in auto-commit mode each append commits on its own.
 *
 * <p>Thread-safe and stateless: one instance may serve the whole application.
 */
public final class Outbox {

    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

    private final String table;
    private final EventTracing tracing;
    private final String insertOne;
    private final String insertMany;

    /** An outbox on the {@code events} table found through the connection's search path. */
    public Outbox() {
        this("events", EventTracing.detect());
    }

    private Outbox(String table, EventTracing tracing) {
        this.table = table;
        this.tracing = Objects.requireNonNull(tracing, "tracing");
        this.insertOne = "INSERT INTO " + table
                + " (message_id, routing_key, payload, headers, aggregate_type, aggregate_id)"
                + " VALUES (COALESCE(?, gen_random_uuid()), ?, ?::jsonb, ?::jsonb, ?, ?)"
                + " RETURNING id, message_id";
        // One statement for the whole batch; WITH ORDINALITY keeps ids in the caller's order.
        this.insertMany = "INSERT INTO " + table
                + " (message_id, routing_key, payload, headers, aggregate_type, aggregate_id)"
                + " SELECT COALESCE(m, gen_random_uuid()), r, p::jsonb, h::jsonb, t, a"
                + " FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])"
                + " WITH ORDINALITY AS e(m, r, p, h, t, a, n) ORDER BY n"
                + " RETURNING id, message_id";
    }

    /** An outbox on a table with another name or in another schema, e.g. {@code billing.events}. */
    public static Outbox forTable(String qualifiedTableName) {
        if (qualifiedTableName == null
                || !TABLE_NAME.matcher(qualifiedTableName).matches()) {
            throw new IllegalArgumentException("outbox table must be [schema.]name of letters, digits and _" + " (was "
                    + qualifiedTableName + ")");
        }
        return new Outbox(qualifiedTableName, EventTracing.detect());
    }

    /**
     * This outbox with {@code tracing} putting the current trace context into each event's
     * headers (by default {@link EventTracing#detect()}: OpenTelemetry when the application has it).
     */
    public Outbox withTracing(EventTracing tracing) {
        return new Outbox(table, tracing);
    }

    /** Appends one event with just a routing key and a payload. */
    public AppendedEvent append(Connection connection, String routingKey, Object payload) {
        return append(connection, OutboxEvent.of(routingKey, payload));
    }

    /** Appends {@code event} in the connection's current transaction. */
    public AppendedEvent append(Connection connection, OutboxEvent untraced) {
        Objects.requireNonNull(connection, "connection");
        OutboxEvent event = tracing.traced(Objects.requireNonNull(untraced, "event"));
        try (PreparedStatement ps = connection.prepareStatement(insertOne)) {
            ps.setObject(1, event.messageId(), Types.OTHER);
            ps.setString(2, event.routingKey());
            ps.setString(3, event.payloadJson());
            ps.setString(4, headersJson(event));
            ps.setString(5, event.aggregateType());
            ps.setString(6, event.aggregateId());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new AppendedEvent(rs.getLong(1), rs.getObject(2, UUID.class));
            }
        } catch (SQLException e) {
            throw new OutboxException(
                    "could not append event with routing key '" + event.routingKey() + "' to " + table + ": "
                            + e.getMessage(),
                    e);
        }
    }

    /** Appends all {@code events} in one statement, in list order, in the connection's current transaction. */
    public List<AppendedEvent> appendAll(Connection connection, List<OutboxEvent> events) {
        Objects.requireNonNull(connection, "connection");
        if (events.isEmpty()) {
            return List.of();
        }
        int n = events.size();
        UUID[] ids = new UUID[n];
        String[] keys = new String[n];
        String[] payloads = new String[n];
        String[] headers = new String[n];
        String[] types = new String[n];
        String[] aggregateIds = new String[n];
        for (int i = 0; i < n; i++) {
            OutboxEvent e = tracing.traced(Objects.requireNonNull(events.get(i), "events[" + i + "]"));
            ids[i] = e.messageId();
            keys[i] = e.routingKey();
            payloads[i] = e.payloadJson();
            headers[i] = headersJson(e);
            types[i] = e.aggregateType();
            aggregateIds[i] = e.aggregateId();
        }
        List<AppendedEvent> appended = new ArrayList<>(n);
        try (PreparedStatement ps = connection.prepareStatement(insertMany)) {
            List<Array> arrays = List.of(
                    connection.createArrayOf("uuid", ids),
                    connection.createArrayOf("text", keys),
                    connection.createArrayOf("text", payloads),
                    connection.createArrayOf("text", headers),
                    connection.createArrayOf("text", types),
                    connection.createArrayOf("text", aggregateIds));
            for (int i = 0; i < arrays.size(); i++) {
                ps.setArray(i + 1, arrays.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    appended.add(new AppendedEvent(rs.getLong(1), rs.getObject(2, UUID.class)));
                }
            }
            return appended;
        } catch (SQLException e) {
            throw new OutboxException(
                    "could not append " + n + " events (first routing key '" + keys[0] + "') to " + table + ": "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * Runs {@code work} in one transaction on a connection from {@code dataSource}: commits when
     * it returns, rolls back everything (entity and events) when it throws, and closes the
     * connection. Checked exceptions from {@code work} are wrapped in {@link OutboxException};
     * unchecked ones are rethrown as they are.
     */
    public <T> T inTransaction(DataSource dataSource, TransactionalWork<T> work) {
        Objects.requireNonNull(work, "work");
        try (Connection connection = dataSource.getConnection()) {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (Throwable failure) {
                rollbackQuietly(connection, failure);
                if (failure instanceof RuntimeException || failure instanceof Error) {
                    throw sneaky(failure);
                }
                throw new OutboxException("transaction rolled back: " + failure.getMessage(), failure);
            } finally {
                restoreAutoCommit(connection, autoCommit);
            }
        } catch (SQLException e) {
            throw new OutboxException("transaction failed and was rolled back: " + e.getMessage(), e);
        }
    }

    /**
     * The old library's one-liner: saves the entity with {@code saveEntity} and appends
     * {@code event}, both in one transaction, or neither.
     */
    public AppendedEvent saveAndAppend(DataSource dataSource, EntityWriter saveEntity, OutboxEvent event) {
        Objects.requireNonNull(event, "event");
        return inTransaction(dataSource, connection -> {
            saveEntity.save(connection);
            return append(connection, event);
        });
    }

    /** Saves the entity on the transaction's connection; see {@link #saveAndAppend}. */
    @FunctionalInterface
    public interface EntityWriter {
        void save(Connection connection) throws Exception;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper HEADERS =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private static String headersJson(OutboxEvent event) {
        return event.headers().isEmpty()
                ? "{}"
                : HEADERS.valueToTree(event.headers()).toString();
    }

    private static void rollbackQuietly(Connection connection, Throwable failure) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            failure.addSuppressed(rollbackFailure);
        }
    }

    private static void restoreAutoCommit(Connection connection, boolean autoCommit) {
        try {
            if (!connection.isClosed()) {
                connection.setAutoCommit(autoCommit);
            }
        } catch (SQLException ignored) {
            // The connection is closed next; a pool resets it anyway.
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
