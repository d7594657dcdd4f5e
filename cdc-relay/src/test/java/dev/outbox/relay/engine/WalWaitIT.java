package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * The WAL reader's wait (decision 017) on a real replication connection: it consumes nothing,
 * a change wakes it and is then read whole, it does not hold up the status updates another
 * thread writes, and a connection that dies ends it with an error instead of a spin.
 */
class WalWaitIT {

    private TestDatabase db;
    private Connection replication;
    private PGReplicationStream stream;
    private final String slot = "walwait_" + Long.toHexString(System.nanoTime());

    @BeforeEach
    void startStream() throws SQLException {
        db = PostgresFixture.get().createDatabase("wal_wait");
        db.execute("CREATE TABLE t (v text)");
        Properties props = new Properties();
        PGProperty.USER.set(props, db.user());
        PGProperty.PASSWORD.set(props, db.password());
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        replication = DriverManager.getConnection(db.url(), props);
        PGConnection pg = replication.unwrap(PGConnection.class);
        pg.getReplicationAPI()
                .createReplicationSlot()
                .logical()
                .withSlotName(slot)
                .withOutputPlugin("test_decoding")
                .make();
        stream = pg.getReplicationAPI()
                .replicationStream()
                .logical()
                .withSlotName(slot)
                .withStatusInterval(1, TimeUnit.HOURS) // only forceUpdateStatus confirms
                .start();
    }

    @AfterEach
    void stopStream() throws SQLException {
        try {
            if (replication != null) {
                replication.close();
            }
        } catch (SQLException alreadyTerminated) {
            // one test kills the connection on purpose; closing it then fails to say goodbye
        } finally {
            db.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot
                    + "' AND NOT active");
            db.close();
        }
    }

    @Test
    void aWaitWithNothingToReadConsumesNothingAndAChangeThenArrivesWhole() throws Exception {
        WalWait wait = WalWait.on(replication, Duration.ofMillis(2));
        assertThat(wait.waitsOnSocket()).isTrue();

        wait.await(); // nothing written: returns after its bound
        assertThat(stream.readPending()).as("nothing was written").isNull();

        db.execute("INSERT INTO t VALUES ('" + "x".repeat(100_000) + "')");
        StringBuilder read = new StringBuilder();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            wait.await();
            for (ByteBuffer message = stream.readPending(); message != null; message = stream.readPending()) {
                read.append(text(message)).append('\n');
            }
            return read.toString().contains("COMMIT");
        });
        assertThat(read.toString())
                .as("the insert, read whole after the wait peeked at it")
                .contains("table public.t: INSERT: v[text]:'" + "x".repeat(100_000) + "'");
    }

    @Test
    void statusUpdatesFromAnotherThreadAreNotHeldUpByAWaitingReader() throws Exception {
        WalWait wait = WalWait.on(replication, Duration.ofMillis(2));
        db.execute("INSERT INTO t VALUES ('a')");
        LogSequenceNumber[] commit = new LogSequenceNumber[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            wait.await();
            ByteBuffer message = stream.readPending();
            if (message != null && text(message).startsWith("COMMIT")) {
                commit[0] = stream.getLastReceiveLSN();
            }
            return commit[0] != null;
        });

        AtomicBoolean reading = new AtomicBoolean(true);
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try {
                while (reading.get()) {
                    wait.await();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            // as Debezium's lsn-flush thread confirms the slot's position while the WAL reader idles
            stream.setFlushedLSN(commit[0]);
            stream.setAppliedLSN(commit[0]);
            stream.forceUpdateStatus();
            await("the slot's confirmed position moves to the commit")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> db.queryLong("SELECT (confirmed_flush_lsn - '" + commit[0].asString()
                                    + "'::pg_lsn)::bigint FROM pg_replication_slots WHERE slot_name = '" + slot + "'")
                            >= 0);
        } finally {
            reading.set(false);
        }
        reader.get();
    }

    @Test
    void aConnectionThatDiesEndsTheWaitWithAnError() throws Exception {
        WalWait wait = WalWait.on(replication, Duration.ofMillis(2));
        db.execute(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
        SQLException failure = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (failure == null && System.nanoTime() < deadline) {
            try {
                wait.await();
                stream.readPending();
            } catch (SQLException e) {
                failure = e;
            }
        }
        assertThat((Object) failure)
                .as("an error, not a wait that spins on a closed socket")
                .isNotNull();
        assertThat(failure.getSQLState()).isEqualTo("08006");
    }

    @Test
    void withoutPgjdbcsStreamItSleepsInstead() throws Exception {
        Connection notPgjdbc = (Connection) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    throw new SQLException("not a pgjdbc connection");
                });
        WalWait wait = WalWait.on(notPgjdbc, Duration.ofMillis(1));
        assertThat(wait.waitsOnSocket()).isFalse();
        wait.await(); // sleeps its fallback instead of failing
    }

    private static String text(ByteBuffer message) {
        return new String(
                message.array(),
                message.arrayOffset() + message.position(),
                message.remaining(),
                StandardCharsets.UTF_8);
    }
}
