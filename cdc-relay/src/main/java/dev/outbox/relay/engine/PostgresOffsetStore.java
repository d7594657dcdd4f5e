package dev.outbox.relay.engine;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.MemoryOffsetBackingStore;
import org.apache.kafka.connect.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's offsets in the {@code relay_offsets} table of the database the relay streams
 * from, so a relay container keeps no state and resumes where the last one stopped.
 *
 * <p>Written after each committed batch, in one transaction, off the engine's thread (see
 * {@link #set}); Debezium commits a batch only after every message in it was confirmed by
 * RabbitMQ, so a stored offset never passes an unconfirmed event. Debezium instantiates this class by name; the database it writes to is
 * handed over through {@link #register} so that no password travels in engine properties.
 */
public class PostgresOffsetStore extends MemoryOffsetBackingStore {

    /** Engine property naming the {@link Target} registered for this engine. */
    public static final String TARGET_PROPERTY = "outbox.offsets.target";

    private static final Logger LOG = LoggerFactory.getLogger(PostgresOffsetStore.class);
    private static final Map<String, Target> TARGETS = new ConcurrentHashMap<>();

    /**
     * Where offsets go: a way to open connections, the schema of relay_offsets, the slot they
     * belong to, and who hears when writes start failing (the epoch millis) and succeed again (0).
     */
    public record Target(ConnectionSource connections, String schema, String slot, LongConsumer failingSince) {}

    /** Opens a new JDBC connection. */
    @FunctionalInterface
    public interface ConnectionSource {
        Connection open() throws SQLException;
    }

    private Target target;
    private Connection connection;
    private Map<ByteBuffer, ByteBuffer> unwritten = new HashMap<>();
    private boolean writeQueued;
    /** Futures of the sets merged into the next write; they complete when it commits or fails. */
    private List<CompletableFuture<Void>> waiting = new ArrayList<>();

    private long failingSince;
    private long lastFailureLog;

    /** Registers {@code target} and returns the value for {@link #TARGET_PROPERTY}. */
    public static String register(Target target) {
        String handle = UUID.randomUUID().toString();
        TARGETS.put(handle, target);
        return handle;
    }

    public static void unregister(String handle) {
        TARGETS.remove(handle);
    }

    @Override
    public void configure(WorkerConfig config) {
        super.configure(config);
        String handle = config.originalsStrings().get(TARGET_PROPERTY);
        target = TARGETS.get(handle);
        if (target == null) {
            throw new IllegalStateException(
                    "no offset store target registered under " + TARGET_PROPERTY + "=" + handle);
        }
    }

    @Override
    public synchronized void start() {
        super.start();
        Map<ByteBuffer, ByteBuffer> loaded = new HashMap<>();
        try (PreparedStatement ps = connection()
                .prepareStatement("SELECT offset_key, offset_value FROM " + target.schema()
                        + ".relay_offsets WHERE slot_name = ?")) {
            ps.setString(1, target.slot());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    loaded.put(bytes(rs.getString(1)), rs.getString(2) == null ? null : bytes(rs.getString(2)));
                }
            }
        } catch (SQLException e) {
            closeConnection();
            throw new IllegalStateException(
                    "could not read offsets of slot " + target.slot() + " from " + target.schema() + ".relay_offsets: "
                            + e.getMessage(),
                    e);
        }
        synchronized (data) {
            data.putAll(loaded);
        }
        LOG.debug("Loaded {} offset entries for slot {}", loaded.size(), target.slot());
    }

    /**
     * Takes the offsets at once and writes them on the store's own thread; sets that queue up
     * while a write is running are merged into the next one. The returned future completes when
     * the write committed (or failed): Debezium waits for it before it confirms the position to
     * the replication slot, so the slot never confirms more than was stored. That order is what
     * lets the start-up check tell a slot that was dropped and created again (it confirms more)
     * from the relay's own. Debezium only hands over offsets of confirmed events, so a relay
     * that dies before a write publishes that batch again.
     */
    @Override
    public Future<Void> set(Map<ByteBuffer, ByteBuffer> values, Callback<Void> callback) {
        synchronized (data) {
            data.putAll(values);
        }
        CompletableFuture<Void> written = new CompletableFuture<>();
        if (callback != null) {
            written.whenComplete((ignored, error) -> callback.onCompletion(error, null));
        }
        // unwritten, waiting and writeQueued belong to the executor's one thread.
        executor.submit(() -> {
            unwritten.putAll(values);
            waiting.add(written);
            if (!writeQueued) {
                writeQueued = true;
                executor.submit(this::writeUnwritten);
            }
        });
        return written;
    }

    /**
     * Answers from memory at once. Debezium reads offsets from its engine thread while it polls
     * (BaseSourceTask.getPreviousOffsets); through the executor, as MemoryOffsetBackingStore
     * does, that read queued behind a JDBC write (docs/decisions/006-offset-store-thread.md).
     */
    @Override
    public Future<Map<ByteBuffer, ByteBuffer>> get(Collection<ByteBuffer> keys) {
        Map<ByteBuffer, ByteBuffer> result = new HashMap<>();
        synchronized (data) {
            for (ByteBuffer key : keys) {
                result.put(key, data.get(key));
            }
        }
        return CompletableFuture.completedFuture(result);
    }

    private void writeUnwritten() {
        writeQueued = false;
        List<CompletableFuture<Void>> settled = waiting;
        waiting = new ArrayList<>();
        if (unwritten.isEmpty()) {
            settled.forEach(f -> f.complete(null));
            return;
        }
        Map<ByteBuffer, ByteBuffer> values = unwritten;
        unwritten = new HashMap<>();
        try {
            write(values);
            settled.forEach(f -> f.complete(null));
            target.failingSince().accept(0); // also clears what an earlier stream's store reported
            if (failingSince != 0) {
                LOG.info(
                        "Offsets of slot {} stored again after {} s of failures",
                        target.slot(),
                        (System.currentTimeMillis() - failingSince) / 1000);
                failingSince = 0;
            }
        } catch (SQLException e) {
            closeConnection();
            values.putAll(unwritten); // newer offsets that came in meanwhile win
            unwritten = values;
            long now = System.currentTimeMillis();
            if (failingSince == 0 || now - lastFailureLog > 60_000) {
                LOG.warn(
                        "Could not store the offsets of slot {} in {}.relay_offsets ({}); publishing goes on and the"
                                + " write is retried with the next batch; a restart before it succeeds publishes the batches"
                                + " since the last stored offset again",
                        target.slot(),
                        target.schema(),
                        e.getMessage());
                lastFailureLog = now;
            }
            if (failingSince == 0) {
                failingSince = now;
                target.failingSince().accept(now);
            }
            // Debezium then leaves the slot where it is, and hands the offsets over again with the next batch.
            settled.forEach(f -> f.completeExceptionally(e));
        }
    }

    private void write(Map<ByteBuffer, ByteBuffer> values) throws SQLException {
        Connection c = connection();
        c.setAutoCommit(false);
        try (PreparedStatement upsert = c.prepareStatement("INSERT INTO " + target.schema()
                + ".relay_offsets (slot_name, offset_key, offset_value, updated_at) VALUES (?, ?, ?, now())"
                + " ON CONFLICT (slot_name, offset_key) DO UPDATE SET offset_value = EXCLUDED.offset_value,"
                + " updated_at = now()")) {
            for (Map.Entry<ByteBuffer, ByteBuffer> e : values.entrySet()) {
                upsert.setString(1, target.slot());
                upsert.setString(2, text(e.getKey()));
                upsert.setString(3, e.getValue() == null ? null : text(e.getValue()));
                upsert.addBatch();
            }
            upsert.executeBatch();
            c.commit();
        } catch (SQLException e) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the connection is dropped by the caller
            }
            throw e;
        }
    }

    /** Waits for the writes in progress (the executor runs its queue before it stops) and retries a failed last one once. */
    @Override
    public synchronized void stop() {
        super.stop();
        if (!unwritten.isEmpty()) {
            writeUnwritten();
        }
        closeConnection();
    }

    @Override
    public Set<Map<String, Object>> connectorPartitions(String connectorName) {
        return Set.of();
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = target.connections().open();
            // An offset lost in a database crash only means the last batch is published again
            // (the slot's own position is flushed by PostgreSQL), so the offset write need not
            // wait for its WAL fsync; it sits between every two batches.
            try (var s = connection.createStatement()) {
                s.execute("SET synchronous_commit = off");
            }
        }
        return connection;
    }

    private void closeConnection() {
        Database.closeQuietly(connection);
        connection = null;
    }

    private static ByteBuffer bytes(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] b = new byte[copy.remaining()];
        copy.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
