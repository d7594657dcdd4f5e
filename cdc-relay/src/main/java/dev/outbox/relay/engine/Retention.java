package dev.outbox.relay.engine;

import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.config.Setting;
import dev.outbox.relay.metrics.RelayMetrics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox's retention rules, run by the relay while it streams: events rows older than
 * {@code RELAY_EVENTS_RETENTION_HOURS} go once every logical slot of the database has
 * confirmed them ({@link Watermarks}), and dead_letters rows replayed or discarded longer ago
 * than {@code RELAY_DEAD_LETTERS_RETENTION_HOURS} go; rows still {@code new} stay. Deletes run
 * in batches of {@value #BATCH} rows, each its own short transaction that locks only the old
 * rows it deletes, so writers, which only insert, never wait for it
 * (docs/decisions/013-retention.md).
 */
public final class Retention {

    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
    private static final int BATCH = 1000;
    /** A backlog of old rows (retention turned on for a large table) goes over several runs, not one long one. */
    private static final int MAX_BATCHES_PER_RUN = 100;
    /** One mark a run: a day of runs at the default interval while a slot does not move on. */
    private static final int MAX_MARKS = 1440;

    private static final Duration HELD_BACK_WARNING_EVERY = Duration.ofHours(1);
    /** How long another slot may stand still before the relay says it holds rows back. */
    private static final Duration HELD_BACK_AFTER = Duration.ofMinutes(15);

    private final Database database;
    private final String ownSlot;
    private final Duration eventsRetention;
    private final Duration deadLettersRetention;
    private final RelayMetrics metrics;
    private final Watermarks watermarks = new Watermarks(MAX_MARKS);
    /** Guards the connection: held by a run, tried by {@link #close()}, which does not wait for one. */
    private final ReentrantLock lock = new ReentrantLock();

    private volatile boolean closed;
    private Connection connection;
    private long lastHeldBackWarningMillis;
    private long lastRefusedMillis;
    /** Another slot that kept this run from deleting anything, and how far it has confirmed; null when none did. */
    private String holdingSlot;

    private long holdingLsn;

    public Retention(Database database, RelayConfig config, RelayMetrics metrics) {
        this.database = database;
        this.ownSlot = config.slot();
        this.eventsRetention = config.eventsRetention();
        this.deadLettersRetention = config.deadLettersRetention();
        this.metrics = metrics;
    }

    /** One run of the rules; a failure is logged and the next run starts over on a new connection. */
    public void run() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            Connection c = connection();
            long events = eventsRetention.isZero() ? 0 : pruneEvents(c);
            long deadLetters = deadLettersRetention.isZero() ? 0 : pruneDeadLetters(c);
            long oldest = oldestEventMillis(c);
            metrics.pruned(events, deadLetters, oldest);
            if (holdingSlot != null) {
                warnIfHeldBack(oldest);
            }
            if (events > 0 || deadLetters > 0) {
                LOG.info(
                        "Retention: deleted {} events rows older than {} h and {} dead_letters rows handled more than {} h ago",
                        events,
                        eventsRetention.toHours(),
                        deadLetters,
                        deadLettersRetention.toHours());
            }
        } catch (SQLException e) {
            if (!closed) {
                reportFailure(e);
            }
            closeConnection();
        } finally {
            if (closed) {
                closeConnection();
            }
            lock.unlock();
        }
    }

    /**
     * A refused privilege fails every run the same way: said once an hour, with the grant to run;
     * anything else at each run, as it may pass.
     */
    private void reportFailure(SQLException e) {
        if (!"42501".equals(e.getSQLState())) {
            LOG.warn("Retention rules failed ({}); they run again at the next interval", e.getMessage());
            return;
        }
        long now = System.currentTimeMillis();
        if (now - lastRefusedMillis >= HELD_BACK_WARNING_EVERY.toMillis()) {
            lastRefusedMillis = now;
            LOG.error(
                    "Retention rules cannot run: {}. Grant the relay's role DELETE on events and dead_letters"
                            + " (GRANT DELETE ON events, dead_letters TO ...; db/roles.sql does), or turn the rules off"
                            + " with {}=0 and {}=0; rows are kept meanwhile. Said again hourly",
                    e.getMessage(),
                    Setting.EVENTS_RETENTION_HOURS.variable(),
                    Setting.DEAD_LETTERS_RETENTION_HOURS.variable());
        }
    }

    private long pruneEvents(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,"
                        + " pg_snapshot_xmin(pg_current_snapshot())::text::bigint")) {
            rs.next();
            watermarks.add(new Watermarks.Mark(rs.getLong(1), rs.getLong(2), System.currentTimeMillis()));
        }
        String laggingSlot = null;
        long laggingLsn = 0;
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT slot_name, coalesce(pg_wal_lsn_diff(confirmed_flush_lsn, '0/0'),"
                        + " 0)::bigint AS lsn FROM pg_replication_slots WHERE slot_type = 'logical'"
                        + " AND database = current_database() ORDER BY lsn LIMIT 1")) {
            if (rs.next()) {
                laggingSlot = rs.getString(1);
                laggingLsn = rs.getLong(2);
                watermarks.confirmed(laggingLsn);
            }
        }
        long belowXid = watermarks.publishedBelowXid();
        long deleted = 0;
        if (belowXid >= 0) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM events WHERE id IN (SELECT id FROM events"
                    + " WHERE created_at < now() - make_interval(secs => ?) AND age(xmin) > age(?::xid) LIMIT "
                    + BATCH + ")")) {
                ps.setLong(1, eventsRetention.toSeconds());
                // age() counts in 32-bit ids, as xmin is stored; an id at the wraparound edge ages as the oldest, so
                // nothing passes rather than too much.
                ps.setString(2, Long.toString(belowXid & 0xFFFF_FFFFL));
                deleted = deleteInBatches(ps);
            }
        }
        boolean heldBack = deleted == 0 && laggingSlot != null && !laggingSlot.equals(ownSlot);
        holdingSlot = heldBack ? laggingSlot : null;
        holdingLsn = laggingLsn;
        return deleted;
    }

    private long pruneDeadLetters(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM dead_letters WHERE id IN (SELECT id FROM"
                + " dead_letters WHERE (status = 'replayed' AND coalesce(replayed_at, captured_at) < now() - make_interval(secs => ?))"
                + " OR (status = 'discarded' AND coalesce(discarded_at, captured_at) < now() - make_interval(secs => ?))"
                + " LIMIT " + BATCH + ")")) {
            ps.setLong(1, deadLettersRetention.toSeconds());
            ps.setLong(2, deadLettersRetention.toSeconds());
            return deleteInBatches(ps);
        }
    }

    private long deleteInBatches(PreparedStatement delete) throws SQLException {
        long total = 0;
        for (int i = 0; i < MAX_BATCHES_PER_RUN && !closed; i++) {
            int n = delete.executeUpdate();
            total += n;
            if (n < BATCH) {
                break;
            }
        }
        return total;
    }

    /**
     * Old rows stay because another slot (often one nothing reads any more) has not confirmed them
     * for a while: say which, hourly. The relay's own slot standing still is its slot lag, or a quiet
     * outbox, whose last rows go with the next event.
     */
    private void warnIfHeldBack(long oldestMillis) {
        long now = System.currentTimeMillis();
        long waitingSince = watermarks.oldestWaitingMillis();
        if (oldestMillis == 0
                || oldestMillis >= now - eventsRetention.toMillis()
                || waitingSince < 0
                || now - waitingSince < HELD_BACK_AFTER.toMillis()
                || now - lastHeldBackWarningMillis < HELD_BACK_WARNING_EVERY.toMillis()) {
            return;
        }
        lastHeldBackWarningMillis = now;
        LOG.warn(
                "events rows older than {} h are kept (the oldest from {}): slot {} has not confirmed the WAL"
                        + " past byte {} for {} min, and rows go only once every logical slot of the database"
                        + " has them. If nothing reads that slot any more, drop it"
                        + " (SELECT pg_drop_replication_slot('{}'))",
                eventsRetention.toHours(),
                java.time.Instant.ofEpochMilli(oldestMillis),
                holdingSlot,
                holdingLsn,
                (now - waitingSince) / 60_000,
                holdingSlot);
    }

    private static long oldestEventMillis(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT min(created_at) FROM events")) {
            Timestamp oldest = rs.next() ? rs.getTimestamp(1) : null;
            return oldest == null ? 0 : oldest.getTime();
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = database.open();
            connection.setAutoCommit(true);
            try (Statement s = connection.createStatement()) {
                // A batch that waits this long is in someone's way; the next run tries again.
                s.execute("SET statement_timeout = '30s'");
            }
        }
        return connection;
    }

    /** Stops the rules; a run in progress ends after its current batch and closes the connection itself. */
    public void close() {
        closed = true;
        if (lock.tryLock()) {
            try {
                closeConnection();
            } finally {
                lock.unlock();
            }
        }
    }

    private void closeConnection() {
        Database.closeQuietly(connection);
        connection = null;
    }

    /** What the relay's start-up log says of the rules. */
    public static String describe(RelayConfig config) {
        return (config.eventsRetention().isZero()
                        ? "events kept forever (" + Setting.EVENTS_RETENTION_HOURS.variable() + "=0)"
                        : "events kept " + config.eventsRetention().toHours() + " h")
                + ", "
                + (config.deadLettersRetention().isZero()
                        ? "handled dead letters kept forever"
                        : "handled dead letters kept "
                                + config.deadLettersRetention().toHours() + " h");
    }
}
