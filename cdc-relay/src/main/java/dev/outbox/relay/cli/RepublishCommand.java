package dev.outbox.relay.cli;

import dev.outbox.protocol.OutgoingMessage;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.config.Setting;
import dev.outbox.relay.engine.Database;
import dev.outbox.relay.engine.EventRecords;
import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.BrokerConnector;
import dev.outbox.relay.publish.ConfirmingPublisher;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code republish --from-id N | --since T}: publishes rows of the events table again, in id
 * order, with confirms, exactly as the relay would. Closes a gap after a lost slot;
 * consumers deduplicate by message id.
 */
@Command(
        name = "republish",
        mixinStandardHelpOptions = true,
        description =
                "Publish events rows again, in id order, with publisher confirms (to close a gap after a dropped slot).")
final class RepublishCommand implements Callable<Integer> {

    static final class From {
        @Option(names = "--from-id", description = "first events id to publish")
        Long fromId;

        @Option(
                names = "--since",
                description = "publish rows created at or after this time (ISO-8601, e.g. 2026-11-28T06:00:00Z)")
        String since;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    From from;

    @Option(names = "--to-id", description = "last events id to publish (default: the newest)")
    Long toId;

    @Override
    public Integer call() throws Exception {
        RelayConfig config = RelayConfig.fromEnv();
        String table = config.dbSchema() + ".events";
        String where = from.fromId != null ? "id >= ?" : "created_at >= ?";
        long published = 0;
        RelayMetrics metrics = new RelayMetrics();
        try (ConfirmingPublisher publisher = new ConfirmingPublisher(new BrokerConnector(config), config, metrics);
                Connection c = new Database(config).open()) {
            warnIfOlderThanKept(c, table, config);
            long after = Long.MIN_VALUE;
            while (true) {
                List<OutgoingMessage> chunk = new ArrayList<>();
                try (PreparedStatement ps =
                        c.prepareStatement("SELECT id, message_id::text, routing_key, payload::text,"
                                + " headers::text, aggregate_type, aggregate_id, created_at FROM " + table + " WHERE "
                                + where
                                + " AND id > ? AND id <= ? ORDER BY id LIMIT 1000")) {
                    if (from.fromId != null) {
                        ps.setLong(1, from.fromId);
                    } else {
                        ps.setTimestamp(
                                1,
                                Timestamp.from(OffsetDateTime.parse(normalise(from.since))
                                        .toInstant()));
                    }
                    ps.setLong(2, after);
                    ps.setLong(3, toId == null ? Long.MAX_VALUE : toId);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            chunk.add(EventRecords.fromRow(
                                    rs.getLong(1),
                                    rs.getString(2),
                                    rs.getString(3),
                                    rs.getString(4),
                                    rs.getString(5),
                                    rs.getString(6),
                                    rs.getString(7),
                                    rs.getObject(8, OffsetDateTime.class).toInstant()));
                            after = rs.getLong(1);
                        }
                    }
                }
                if (chunk.isEmpty()) {
                    break;
                }
                publisher.publishAll(chunk);
                published += chunk.size();
                System.err.println("republished " + published + " events (up to id " + after + ")");
            }
        }
        System.out.println("republished " + published + " events");
        return 0;
    }

    /**
     * The range asked for starts before the oldest row kept: what was there was deleted by the
     * retention rule (or never committed), and cannot be published again from this table.
     */
    private void warnIfOlderThanKept(Connection c, String table, RelayConfig config) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT min(id), min(created_at) FROM " + table);
                ResultSet kept = ps.executeQuery()) {
            kept.next();
            OffsetDateTime oldestAt = kept.getObject(2, OffsetDateTime.class);
            if (oldestAt == null) {
                return;
            }
            long lowestId = kept.getLong(1);
            boolean before = from.fromId != null
                    ? from.fromId < lowestId
                    : OffsetDateTime.parse(normalise(from.since)).isBefore(oldestAt);
            if (before) {
                System.err.println("warning: the oldest events row kept is id " + lowestId + ", the oldest created at "
                        + oldestAt + "; rows before it were deleted by the retention rule ("
                        + Setting.EVENTS_RETENTION_HOURS.variable() + "="
                        + config.eventsRetention().toHours()
                        + ") or never committed, and cannot be published again from this table");
            }
        }
    }

    /** PostgreSQL prints "2026-11-28 06:00:00.123+00"; accept that as well as ISO-8601. */
    static String normalise(String time) {
        String t = time.trim().replace(' ', 'T');
        if (t.matches(".*[+-]\\d\\d$")) {
            t = t + ":00";
        }
        return t;
    }
}
