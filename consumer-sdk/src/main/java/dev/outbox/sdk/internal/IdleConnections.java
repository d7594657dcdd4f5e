package dev.outbox.sdk.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import javax.sql.DataSource;

/**
 * Keeps database connections open between messages (one per consumer), so a plain, unpooled
 * DataSource does not cost a new PostgreSQL connection per message. With a pooled DataSource
 * it only saves the pool's round trip. A connection that failed is closed, not reused.
 * Plumbing shared by the SDK's parts (the transactional inbox, the dead-letter capture), not
 * an API for applications.
 */
public final class IdleConnections implements AutoCloseable {

    private final DataSource dataSource;
    private final BlockingQueue<Connection> idle;

    public IdleConnections(DataSource dataSource, int size) {
        this.dataSource = dataSource;
        this.idle = new ArrayBlockingQueue<>(size);
    }

    /** An open connection: an idle one, or a new one from the DataSource. */
    public Connection take() throws SQLException {
        Connection c;
        while ((c = idle.poll()) != null) {
            if (!c.isClosed()) {
                return c;
            }
        }
        return dataSource.getConnection();
    }

    /** Returns {@code c} for the next message, or closes it when it failed or enough are idle. */
    public void give(Connection c, boolean healthy) {
        if (!healthy || !idle.offer(c)) {
            closeQuietly(c);
        }
    }

    @Override
    public void close() {
        Connection c;
        while ((c = idle.poll()) != null) {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // broken anyway
        }
    }
}
