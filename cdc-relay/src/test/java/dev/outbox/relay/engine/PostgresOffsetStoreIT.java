package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import io.debezium.embedded.EmbeddedWorkerConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The relay's offset store against a real database: writes in the background, reads from memory, failures shown. */
class PostgresOffsetStoreIT {

    private static final ByteBuffer KEY = bytes("[\"it\",{\"server\":\"it\"}]");

    private TestDatabase db;
    private String handle;
    private PostgresOffsetStore store;
    private final AtomicBoolean databaseDown = new AtomicBoolean();
    private final AtomicLong failingSince = new AtomicLong(-1);

    @BeforeEach
    void startStore() {
        db = PostgresFixture.get().createDatabase("offset_store");
        Migrations.apply(db.dataSource());
        handle = PostgresOffsetStore.register(new PostgresOffsetStore.Target(
                () -> {
                    if (databaseDown.get()) {
                        throw new SQLException("connection refused (database down in this test)");
                    }
                    return db.connect();
                },
                "public",
                "it_slot",
                failingSince::set));
        store = new PostgresOffsetStore();
        store.configure(new EmbeddedWorkerConfig(new HashMap<>(Map.of(PostgresOffsetStore.TARGET_PROPERTY, handle))));
        store.start();
    }

    @AfterEach
    void stopStore() {
        try {
            if (store != null) {
                store.stop();
            }
        } finally {
            PostgresOffsetStore.unregister(handle);
            db.close();
        }
    }

    @Test
    void setReturnsAtOnceAndTheOffsetIsReadBackAndStored() throws Exception {
        store.set(Map.of(KEY, bytes("{\"lsn\":1}")), null).get(1, TimeUnit.SECONDS);
        assertThat(store.get(List.of(KEY)).get(1, TimeUnit.SECONDS)).containsEntry(KEY, bytes("{\"lsn\":1}"));
        await().atMost(Duration.ofSeconds(10)).until(() -> storedValue().equals("{\"lsn\":1}"));
        await("reported as storing").atMost(Duration.ofSeconds(10)).until(() -> failingSince.get() == 0);
    }

    @Test
    void failingWritesAreReportedAndTheLatestOffsetIsStoredOnceTheDatabaseIsBack() throws Exception {
        store.set(Map.of(KEY, bytes("{\"lsn\":1}")), null);
        await().atMost(Duration.ofSeconds(10)).until(() -> storedValue().equals("{\"lsn\":1}"));

        databaseDown.set(true);
        closeStoreConnection();
        store.set(Map.of(KEY, bytes("{\"lsn\":2}")), null);
        await().atMost(Duration.ofSeconds(10)).until(() -> failingSince.get() > 0);
        assertThat(storedValue()).isEqualTo("{\"lsn\":1}");
        assertThat(store.get(List.of(KEY)).get(1, TimeUnit.SECONDS)).containsEntry(KEY, bytes("{\"lsn\":2}"));

        databaseDown.set(false);
        store.set(Map.of(KEY, bytes("{\"lsn\":3}")), null);
        await().atMost(Duration.ofSeconds(10)).until(() -> storedValue().equals("{\"lsn\":3}"));
        await("reported as storing again").atMost(Duration.ofSeconds(10)).until(() -> failingSince.get() == 0);
    }

    @Test
    void aCleanStopStoresTheLastOffset() throws Exception {
        store.set(Map.of(KEY, bytes("{\"lsn\":7}")), null);
        store.stop();
        store = null;
        assertThat(storedValue()).isEqualTo("{\"lsn\":7}");
    }

    /** Makes the store open a new connection for its next write, as after a database restart. */
    private void closeStoreConnection() {
        db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_backend_pid()");
    }

    private String storedValue() {
        try (var c = db.connect();
                var s = c.createStatement();
                var rs = s.executeQuery("SELECT offset_value FROM relay_offsets WHERE slot_name = 'it_slot'")) {
            return rs.next() ? rs.getString(1) : "";
        } catch (SQLException e) {
            return "";
        }
    }

    private static ByteBuffer bytes(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }
}
