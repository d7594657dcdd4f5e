package dev.outbox.sdk;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code inbox} table: which messages a consumer has processed, recorded in the handler's transaction. */
final class Inbox {

    private static final Logger LOG = LoggerFactory.getLogger(Inbox.class);
    private final DataSource dataSource;
    private final String consumer;

    Inbox(DataSource dataSource, String consumer) {
        this.dataSource = dataSource;
        this.consumer = consumer;
    }

    /**
     * Records {@code messageId} in the caller's transaction; {@code false} when it was already
     * recorded (a duplicate). A concurrent duplicate waits on the primary key until the first
     * commits, then sees it.
     */
    boolean record(Connection c, String messageId) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("INSERT INTO inbox (consumer, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, consumer);
            ps.setString(2, messageId);
            return ps.executeUpdate() == 1;
        }
    }

    /** Forgets messages processed longer ago than {@code retention}. */
    int clean(Duration retention) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "DELETE FROM inbox WHERE consumer = ? AND processed_at < now() - make_interval(secs => ?)")) {
            ps.setString(1, consumer);
            ps.setDouble(2, retention.toSeconds());
            int deleted = ps.executeUpdate();
            if (deleted > 0) {
                LOG.debug("Inbox of {}: forgot {} messages older than {}", consumer, deleted, retention);
            }
            return deleted;
        } catch (SQLException e) {
            LOG.warn("Inbox of {}: cleanup failed ({}); will try again", consumer, e.getMessage());
            return 0;
        }
    }
}
