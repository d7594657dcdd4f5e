package dev.outbox.relay.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outbox.relay.config.EnvironmentException;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.config.Setting;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What must hold before streaming starts. Each failure is permanent and says what to change:
 * authentication, {@code wal_level}, the REPLICATION right, the events table, and a slot
 * that vanished after the relay had streamed from it (starting a new slot then would skip
 * every event committed in between, so the relay refuses).
 */
public final class StartupChecks {

    private static final ObjectMapper OFFSET_JSON = new ObjectMapper();

    private final RelayConfig config;
    private final Database database;

    public StartupChecks(RelayConfig config, Database database) {
        this.config = config;
        this.database = database;
    }

    /** Connects, or throws {@link EnvironmentException} for wrong credentials and unknown databases; other failures are transient. */
    public Connection connect() throws SQLException {
        try {
            return database.open();
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.equals("28P01") || state.equals("28000")) {
                throw new EnvironmentException(
                        "PostgreSQL refused the login of " + Setting.DB_USER.variable()
                                + "=" + config.dbUser() + " at " + config.dbEndpoint() + " (" + firstLine(e)
                                + "). Check "
                                + Setting.DB_USER.variable() + " and " + Setting.DB_PASSWORD.variable()
                                + " (or its _FILE); the relay does not retry wrong credentials.",
                        e);
            }
            if (isTlsRejection(e)) {
                throw new EnvironmentException(
                        "PostgreSQL at " + config.dbEndpoint() + " presented a TLS certificate the relay"
                                + " rejects (" + firstLine(e)
                                + "). With sslmode=verify-ca or verify-full, point sslrootcert in "
                                + Setting.DB_URL.variable()
                                + " at the CA that signed the server's certificate, and use a host name"
                                + " the certificate names.",
                        e);
            }
            if (state.equals("3D000")) {
                throw new EnvironmentException(
                        "The database in " + Setting.DB_URL.variable() + "=" + config.dbEndpoint() + " does not exist ("
                                + firstLine(e) + ").",
                        e);
            }
            throw e;
        }
    }

    private static boolean isTlsRejection(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException
                    || t instanceof java.security.cert.CertificateException
                    || String.valueOf(t.getMessage()).contains("could not be verified by hostnameverifier")) {
                return true;
            }
        }
        return false;
    }

    /** Checks wal_level, the REPLICATION right and the events table. */
    public void checkServer(Connection c) throws SQLException {
        String walLevel = single(c, "SHOW wal_level");
        if (!"logical".equals(walLevel)) {
            throw new EnvironmentException("PostgreSQL at " + config.dbEndpoint() + " has wal_level=" + walLevel
                    + "; logical decoding needs wal_level=logical. Run: ALTER SYSTEM SET wal_level = logical;"
                    + " then restart PostgreSQL (scripts/local-services does both on a development machine).");
        }
        String canReplicate =
                single(c, "SELECT (rolreplication OR rolsuper)::text FROM pg_roles WHERE rolname = current_user");
        if (!"true".equals(canReplicate)) {
            throw new EnvironmentException("Role " + config.dbUser() + " may not stream the WAL: it lacks the"
                    + " REPLICATION attribute. Run as a superuser: ALTER ROLE " + config.dbUser() + " REPLICATION;"
                    + " (db/roles.sql creates a least-privilege relay role).");
        }
    }

    /** Checks that the events table exists (after migrations had their chance). */
    public void checkTable(Connection c) throws SQLException {
        String table = config.dbSchema() + ".events";
        if (single(c, "SELECT to_regclass('" + table + "')::text") == null) {
            throw new EnvironmentException("Table " + table + " does not exist in " + config.dbEndpoint()
                    + ". Apply the schema: java -jar cdc-relay.jar migrate (or leave "
                    + Setting.MIGRATE.variable() + "=true so that run applies it).");
        }
    }

    /**
     * Refuses to start when offsets say the relay streamed from the slot before but the slot is
     * gone, was dropped and created again (it confirms a position past the last one the relay
     * stored: the WAL in between was never read), or PostgreSQL invalidated it
     * ({@code wal_status = lost}: it removed WAL the slot still needed, past
     * {@code max_slot_wal_keep_size}): streaming on would silently skip the gap. A failure to
     * read the offsets is not a pass: it is thrown, and the start retried.
     */
    public void checkSlot(Connection c) throws SQLException {
        boolean slotExists;
        boolean lost = false;
        long slotConfirmed = -1;
        try (PreparedStatement ps =
                c.prepareStatement("SELECT plugin, wal_status, (confirmed_flush_lsn - '0/0'::pg_lsn)::text"
                        + " FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, config.slot());
            try (ResultSet rs = ps.executeQuery()) {
                slotExists = rs.next();
                if (slotExists && !"pgoutput".equals(rs.getString(1))) {
                    throw new EnvironmentException("Replication slot " + config.slot() + " uses plugin "
                            + rs.getString(1) + ", not pgoutput. Choose another " + Setting.SLOT.variable()
                            + " or drop that slot.");
                }
                lost = slotExists && "lost".equals(rs.getString(2));
                if (slotExists && rs.getString(3) != null) {
                    slotConfirmed = Long.parseLong(rs.getString(3));
                }
            }
        }
        String lastOffset;
        String updatedAt;
        try (PreparedStatement ps = c.prepareStatement("SELECT offset_value, updated_at::text FROM " + config.dbSchema()
                + ".relay_offsets WHERE slot_name = ? ORDER BY updated_at DESC LIMIT 1")) {
            ps.setString(1, config.slot());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    lastOffset = null;
                    updatedAt = null;
                } else {
                    lastOffset = rs.getString(1);
                    updatedAt = rs.getString(2);
                }
            }
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState())) {
                throw e; // not "no offsets table": a failure to read them, which proves nothing
            }
            lastOffset = null;
            updatedAt = null;
        }
        String recovery =
                " Events committed meanwhile may never have been published, so the relay will not go on by itself."
                        + " To recover: (1) java -jar cdc-relay.jar reset-offsets, which forgets the old position so the next"
                        + " start creates a new slot"
                        + (slotExists
                                ? " (drop the " + (lost ? "invalidated" : "present") + " one first: SELECT"
                                        + " pg_drop_replication_slot('" + config.slot() + "'))"
                                : "")
                        + "; (2) java -jar cdc-relay.jar republish --since '"
                        + (updatedAt == null ? "<when the relay last streamed>" : updatedAt)
                        + "' to send again every event written"
                        + " since then (consumers deduplicate by message id).";
        if (lost) {
            throw new EnvironmentException("Replication slot " + config.slot() + " was invalidated by PostgreSQL"
                    + " (wal_status = lost): it removed WAL the slot still needed, past max_slot_wal_keep_size"
                    + (updatedAt == null
                            ? ""
                            : "; the relay streamed from it until " + updatedAt + " (offset " + lastOffset + ")")
                    + "." + recovery + " Raise max_slot_wal_keep_size (or -1) so a stopped relay keeps its slot.");
        }
        if (lastOffset == null) {
            return; // first start: Debezium creates the slot and snapshots the events table
        }
        if (!slotExists) {
            throw new EnvironmentException("Replication slot " + config.slot() + " is gone, but the relay streamed"
                    + " from it until " + updatedAt + " (offset " + lastOffset + ")." + recovery);
        }
        long stored = storedPosition(lastOffset);
        // The relay stores its offset before it confirms that position to the slot, so a slot of its
        // own never confirms more than was stored; one that does was made anew (or moved by someone else).
        if (stored >= 0 && slotConfirmed > stored) {
            throw new EnvironmentException("Replication slot " + config.slot() + " confirms WAL position "
                    + lsn(slotConfirmed) + ", past the last position the relay stored (" + lsn(stored) + ", at "
                    + updatedAt + "): the slot was dropped and created again, or another client advanced it, so the WAL"
                    + " in between was never relayed." + recovery);
        }
    }

    /** The furthest WAL position in a stored Debezium offset ({@code lsn}, {@code lsn_commit}, {@code lsn_proc}), or -1. */
    static long storedPosition(String offsetJson) {
        long furthest = -1;
        try {
            JsonNode offset = OFFSET_JSON.readTree(offsetJson);
            for (String field : new String[] {"lsn", "lsn_commit", "lsn_proc"}) {
                if (offset.path(field).canConvertToLong()) {
                    furthest = Math.max(furthest, offset.path(field).longValue());
                }
            }
        } catch (java.io.IOException unreadable) {
            // no position to compare: the check is skipped, as for an offset without one
        }
        return furthest;
    }

    private static String lsn(long position) {
        return Long.toHexString(position >>> 32).toUpperCase() + "/"
                + Long.toHexString(position & 0xFFFFFFFFL).toUpperCase();
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static String firstLine(SQLException e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
