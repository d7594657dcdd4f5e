package dev.outbox.relay.engine;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.PGStream;
import org.postgresql.core.QueryExecutorBase;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the WAL reader idles: it waits on the replication connection's socket until PostgreSQL
 * sends something or {@link #BOUND} passes, instead of Debezium's poll (a non-blocking read,
 * then a sleep of {@code poll.interval.ms}, hundreds of times a second). Used by the relay's
 * patched {@code PostgresStreamingChangeEventSource}; why, and what it measured, in
 * docs/decisions/017-wal-reader-waits-on-the-socket.md.
 *
 * <p>The wait peeks one byte into the driver's read buffer (pgjdbc's {@code PGStream.peekChar},
 * under a socket timeout), which consumes nothing: the next {@code readPending} reads the
 * message whole. Only the WAL reader's thread reads this connection; the status updates that
 * confirm the slot's position are written by another thread, which the wait does not hold up
 * (it takes no driver lock, and the socket's timeout governs reads only).
 */
public final class WalWait {

    /**
     * The longest one wait lasts: the WAL reader then looks around (stop requested, status update
     * due, heartbeat) as Debezium's loop does after each poll. It bounds how late a stop is seen.
     */
    public static final Duration BOUND = Duration.ofMillis(500);

    /** How often the driver's own empty read still peeks the socket (its default; 0 for replication). */
    private static final int DRIVER_PEEK_EVERY_MILLIS = 1_000;

    private static final Logger log = LoggerFactory.getLogger(WalWait.class);

    private final PGStream stream;
    private final Duration fallback;

    private WalWait(PGStream stream, Duration fallback) {
        this.stream = stream;
        this.fallback = fallback;
    }

    /**
     * A wait on the given replication connection, or, when the driver's stream cannot be reached
     * (a pgjdbc that changed its internals), a sleep of {@code fallback} as upstream does.
     */
    public static WalWait on(Connection replication, Duration fallback) {
        PGStream stream;
        try {
            stream = streamOf(replication);
        } catch (ReflectiveOperationException | SQLException | RuntimeException e) {
            log.warn(
                    "The WAL reader polls every {} ms instead of waiting for data: pgjdbc's stream could not be"
                            + " reached ({}). Streaming is unaffected; the relay uses more CPU while idle. Report it"
                            + " with the pgjdbc version in use.",
                    fallback.toMillis(),
                    e.toString());
            return new WalWait(null, fallback);
        }
        // The driver's empty read (readPending) otherwise blocks a millisecond on the socket each
        // time and throws a SocketTimeoutException; this wait does the blocking instead.
        stream.setMinStreamAvailableCheckDelay(DRIVER_PEEK_EVERY_MILLIS);
        return new WalWait(stream, fallback);
    }

    /** Whether this waits on the socket (true) or sleeps (the fallback). */
    public boolean waitsOnSocket() {
        return stream != null;
    }

    /**
     * Returns when the replication connection has bytes to read, or after {@link #BOUND}.
     *
     * @throws SQLException when the connection failed (Debezium's error handling restarts the stream)
     * @throws InterruptedException when the thread is interrupted, as the sleep it replaces would
     */
    public void await() throws SQLException, InterruptedException {
        if (stream == null) {
            Thread.sleep(fallback.toMillis());
            return;
        }
        try {
            int previous = stream.getNetworkTimeout();
            stream.setNetworkTimeout((int) BOUND.toMillis());
            try {
                stream.peekChar();
            } catch (SocketTimeoutException nothingArrived) {
                // the bound passed: look around, then wait again
            } finally {
                stream.setNetworkTimeout(previous);
            }
        } catch (IOException e) {
            throw new PSQLException(
                    "Database connection failed while the WAL reader waited for data", PSQLState.CONNECTION_FAILURE, e);
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }

    private static PGStream streamOf(Connection replication) throws ReflectiveOperationException, SQLException {
        Object executor = replication.unwrap(BaseConnection.class).getQueryExecutor();
        Field field = QueryExecutorBase.class.getDeclaredField("pgStream");
        field.setAccessible(true);
        return (PGStream) field.get(executor);
    }
}
