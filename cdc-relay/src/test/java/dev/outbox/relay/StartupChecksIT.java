package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each start-up check stops the relay with exit code 3 and one message that says what to change. */
class StartupChecksIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private TestDatabase db;
    private Map<String, String> env;

    @BeforeEach
    void setUp() {
        db = PostgresFixture.get().createDatabase("startup_checks");
        env = RelayEnv.forTest(db, BROKER);
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    private String exitsWith3(String name) throws Exception {
        try (RelayProcess relay = RelayProcess.start(env, name + "-" + env.get("RELAY_SLOT"))) {
            assertThat(relay.awaitExit(Duration.ofSeconds(60)))
                    .as(relay.output())
                    .isEqualTo(3);
            return relay.output();
        }
    }

    @Test
    void roleWithoutReplicationRightIsToldWhatToGrant() throws Exception {
        String role = "it_norepl_" + ThreadLocalRandom.current().nextInt(1_000_000);
        db.execute("CREATE ROLE " + role + " LOGIN");
        try {
            env.put("RELAY_DB_USER", role);
            assertThat(exitsWith3("norepl"))
                    .contains("lacks the REPLICATION attribute")
                    .contains("ALTER ROLE " + role + " REPLICATION");
        } finally {
            db.execute("DROP ROLE " + role);
        }
    }

    @Test
    void missingEventsTableIsToldToMigrate() throws Exception {
        env.put("RELAY_MIGRATE", "false");
        assertThat(exitsWith3("notable"))
                .contains("Table public.events does not exist")
                .contains("migrate");
    }

    @Test
    void unknownDatabaseRoleIsALoginFailureWithoutRetries() throws Exception {
        env.put("RELAY_DB_USER", "it_nobody_" + ThreadLocalRandom.current().nextInt(1_000_000));
        assertThat(exitsWith3("nologin"))
                .contains("PostgreSQL refused the login")
                .contains("RELAY_DB_PASSWORD");
    }

    @Test
    void aPasswordInTheDatabaseUrlIsNeverPrinted() throws Exception {
        // RELAY_DB_URL was printed as given, password= and sslpassword= included, in every message naming the database.
        env.put(
                "RELAY_DB_URL",
                "jdbc:postgresql://127.0.0.1:5432/it_no_such_db_"
                        + ThreadLocalRandom.current().nextInt(1_000_000)
                        + "?password=pg-url-secret&sslpassword=key-secret");
        String output = exitsWith3("urlsecret");
        assertThat(output)
                .contains("RELAY_DB_URL")
                .contains("password=<masked>")
                .doesNotContain("pg-url-secret")
                .doesNotContain("key-secret");
    }

    @Test
    void wrongBrokerPasswordStopsAtOnceWithoutARetryStorm() throws Exception {
        env.put("RELAY_RABBITMQ_URI", BROKER.uri().replaceFirst("//([^:]+):[^@]*@", "//$1:wrong-password@"));
        String output = exitsWith3("badpass");
        assertThat(output)
                .contains("refused the credentials in RELAY_RABBITMQ_URI")
                .doesNotContain("wrong-password");
    }

    @Test
    void droppedSlotAfterStreamingRefusesToStartAndSaysHowToRecover() throws Exception {
        try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            db.execute("INSERT INTO events (routing_key, payload) VALUES ('slotcheck.x', '{}')");
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> db.queryLong("SELECT count(*) FROM relay_offsets WHERE slot_name = '"
                                    + env.get("RELAY_SLOT") + "'")
                            > 0);
        }
        db.execute("SELECT pg_drop_replication_slot('" + env.get("RELAY_SLOT") + "')");
        assertThat(exitsWith3("dropped"))
                .contains("Replication slot " + env.get("RELAY_SLOT") + " is gone")
                .contains("reset-offsets")
                .contains("republish --since");
        assertThat(db.queryLong(
                        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + env.get("RELAY_SLOT") + "'"))
                .as("no new slot created silently")
                .isZero();
    }

    @Test
    void aSlotDroppedAndCreatedAgainIsAGapNotAFreshStart() throws Exception {
        String slot = env.get("RELAY_SLOT");
        try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            db.execute("INSERT INTO events (routing_key, payload) VALUES ('slotcheck.x', '{}')");
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() ->
                            db.queryLong("SELECT count(*) FROM relay_offsets WHERE slot_name = '" + slot + "'") > 0);
        }
        db.execute("SELECT pg_drop_replication_slot('" + slot + "')");
        db.execute("INSERT INTO events (routing_key, payload) VALUES ('slotcheck.missed', '{}')");
        db.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        assertThat(exitsWith3("recreated"))
                .contains("Replication slot " + slot + " confirms WAL position")
                .contains("dropped and created again")
                .contains("reset-offsets")
                .contains("pg_drop_replication_slot('" + slot + "')")
                .contains("republish --since");
    }

    @Test
    void aRestartedRelayPassesTheSlotCheckAfterStreaming() throws Exception {
        // The relay's own slot never confirms more than its stored offsets: Debezium waits for the offset
        // write before it confirms the position, so a plain restart must not look like a recreated slot.
        String slot = env.get("RELAY_SLOT");
        for (int round = 0; round < 3; round++) {
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                for (int i = 0; i < 50; i++) {
                    db.execute("INSERT INTO events (routing_key, payload) VALUES ('slotcheck.r" + round + "', '{}')");
                }
                long written = db.queryLong("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
                org.awaitility.Awaitility.await()
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> db.queryLong("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot
                                        + "'" + " AND (confirmed_flush_lsn - '0/0'::pg_lsn)::bigint >= " + written)
                                > 0);
            }
        }
    }

    @Test
    void aSlotPostgresInvalidatedIsAGapTheRelayReportsInsteadOfRestartingForEver() throws Exception {
        // An invalidated slot (wal_status = lost) failed every stream start inside Debezium, and the relay
        // restarted it with backoff for ever, "not ready" with no word of the events lost in the gap.
        assumeThat(Files.isExecutable(Path.of("/usr/bin/pg_createcluster")))
                .as("needs Debian's pg_createcluster to run a PostgreSQL with max_slot_wal_keep_size")
                .isTrue();
        try (ScratchCluster pg = ScratchCluster.start("logical", "max_slot_wal_keep_size = 1MB")) {
            String url = "jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres";
            env.put("RELAY_DB_URL", url);
            env.put("RELAY_DB_USER", "postgres");
            env.put("RELAY_DB_PASSWORD", "");
            try (RelayHarness relay = RelayHarness.start(env).awaitReady();
                    java.sql.Connection c = java.sql.DriverManager.getConnection(url, "postgres", "")) {
                c.createStatement().execute("INSERT INTO events (routing_key, payload) VALUES ('lostslot.x', '{}')");
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try (var rs = c.createStatement().executeQuery("SELECT count(*) FROM relay_offsets")) {
                        return rs.next() && rs.getLong(1) > 0;
                    }
                });
            }
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "postgres", "");
                    java.sql.Statement st = c.createStatement()) {
                st.execute("CREATE TABLE junk (t text)");
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
                    st.execute("INSERT INTO junk SELECT repeat('x', 1000) FROM generate_series(1, 5000)");
                    st.execute("SELECT pg_switch_wal()");
                    st.execute("CHECKPOINT");
                    try (var rs = st.executeQuery("SELECT wal_status FROM pg_replication_slots WHERE slot_name = '"
                            + env.get("RELAY_SLOT") + "'")) {
                        return rs.next() && "lost".equals(rs.getString(1));
                    }
                });
            }
            assertThat(exitsWith3("lostslot"))
                    .contains("was invalidated by PostgreSQL (wal_status = lost)")
                    .contains("reset-offsets")
                    .contains("pg_drop_replication_slot")
                    .contains("republish --since");
        }
    }

    @Test
    void walLevelBelowLogicalIsToldHowToChangeIt() throws Exception {
        assumeThat(Files.isExecutable(Path.of("/usr/bin/pg_createcluster")))
                .as("needs Debian's pg_createcluster to run a second PostgreSQL with wal_level=replica")
                .isTrue();
        try (ScratchCluster replica = ScratchCluster.start("replica")) {
            env.put("RELAY_DB_URL", "jdbc:postgresql://127.0.0.1:" + replica.port() + "/postgres");
            assertThat(exitsWith3("wallevel"))
                    .contains("wal_level=replica")
                    .contains("ALTER SYSTEM SET wal_level = logical");
        }
    }

    @Test
    void invalidConfigurationExitsWith2NamingTheVariable() throws Exception {
        env.put("RELAY_HTTP_PORT", "0");
        try (RelayProcess relay = RelayProcess.start(env, "badconfig-" + env.get("RELAY_SLOT"))) {
            assertThat(relay.awaitExit(Duration.ofSeconds(30))).isEqualTo(2);
            assertThat(relay.output()).contains("RELAY_HTTP_PORT must be 1..65535 (was 0)");
        }
    }
}
