package dev.outbox.relay.engine;

import dev.outbox.relay.metrics.RelayMetrics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Measures how much WAL the relay's slot holds back, for {@code relay_slot_lag_bytes}. */
public final class SlotMonitor {

    private final Database database;
    private final String slot;
    private final RelayMetrics metrics;
    private Connection connection;

    public SlotMonitor(Database database, String slot, RelayMetrics metrics) {
        this.database = database;
        this.slot = slot;
        this.metrics = metrics;
    }

    /** One measurement; failures leave the last value and are retried on the next call. */
    public synchronized void measure() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = database.open();
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(),"
                    + " confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        metrics.slotLagBytes(rs.getLong(1));
                    }
                }
            }
        } catch (SQLException e) {
            close();
        }
    }

    public synchronized void close() {
        Database.closeQuietly(connection);
        connection = null;
    }
}
