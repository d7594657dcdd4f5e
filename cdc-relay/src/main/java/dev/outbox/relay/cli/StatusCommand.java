package dev.outbox.relay.cli;

import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.engine.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code status}: the slot, its lag, the stored offset, the outbox and the dead letters, at a glance. */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = "Show the slot, its WAL lag, the stored offset and dead letter counts.")
final class StatusCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        RelayConfig config = RelayConfig.fromEnv();
        try (Connection c = new Database(config).open()) {
            System.out.println("database " + config.dbEndpoint() + ", slot " + config.slot());
            try (PreparedStatement ps = c.prepareStatement("SELECT active, active_pid, pg_size_pretty(pg_wal_lsn_diff("
                    + "pg_current_wal_lsn(), confirmed_flush_lsn)), confirmed_flush_lsn::text FROM pg_replication_slots"
                    + " WHERE slot_name = ?")) {
                ps.setString(1, config.slot());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        System.out.println(
                                "slot: " + (rs.getBoolean(1) ? "active (pid " + rs.getInt(2) + ")" : "inactive")
                                        + ", confirmed " + rs.getString(4) + ", WAL held back " + rs.getString(3));
                    } else {
                        System.out.println("slot: missing (created at the relay's first start)");
                    }
                }
            }
            print(
                    c,
                    "offset stored at",
                    "SELECT max(updated_at)::text FROM " + config.dbSchema() + ".relay_offsets WHERE slot_name = '"
                            + config.slot() + "'");
            print(c, "events: newest id", "SELECT coalesce(max(id), 0)::text FROM " + config.dbSchema() + ".events");
            print(
                    c,
                    "dead letters by status",
                    "SELECT coalesce(string_agg(status || '=' || n, ', '), 'none') FROM"
                            + " (SELECT status, count(*) n FROM " + config.dbSchema()
                            + ".dead_letters GROUP BY status) s");
        }
        return 0;
    }

    private static void print(Connection c, String label, String sql) {
        try (PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            System.out.println(label + ": " + (rs.next() ? rs.getString(1) : "-"));
        } catch (java.sql.SQLException e) {
            System.out.println(label + ": unavailable (" + e.getMessage().split("\n")[0] + ")");
        }
    }
}
