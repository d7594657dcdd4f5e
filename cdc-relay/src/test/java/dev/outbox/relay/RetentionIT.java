package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The retention rules against the real services: old rows go only once they are in RabbitMQ and
 * every logical slot of the database has confirmed them; handled dead letters go after their
 * own retention, new ones never.
 */
class RetentionIT {

    private TestDatabase db;
    private Map<String, String> env;
    private String exchange;

    @BeforeEach
    void setUp() {
        db = PostgresFixture.get().createDatabase("relay_retention");
        Migrations.apply(db.dataSource());
        env = RelayEnv.forTest(db, RabbitFixture.get());
        env.put("RELAY_PRUNE_INTERVAL_MS", "200");
        exchange = "retention_" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 40), 36);
    }

    @AfterEach
    void tearDown() {
        if (db != null) {
            db.close(); // drops the database with its slots, the lagging one too
        }
    }

    private Recorder record() {
        return Recorder.bind(RabbitFixture.get(), exchange + "_q", exchange + ":" + exchange + ".#");
    }

    private void insertEvents(int count, String age) {
        db.execute("INSERT INTO events (routing_key, payload, created_at) SELECT '" + exchange
                + ".created', jsonb_build_object('n', n), now() - interval '" + age + "' FROM generate_series(1, "
                + count + ") AS n");
    }

    private long eventsOlderThanADay() {
        return db.queryLong("SELECT count(*) FROM events WHERE created_at < now() - interval '1 day'");
    }

    /**
     * A live outbox: one more event. Rows go once the slots have confirmed a position taken after
     * their transactions ended, which takes a later event: a quiet outbox keeps its last rows
     * until the next one (docs/operating.md, Retention).
     */
    private long eventsOlderThanADayWhileEventsFlow() {
        insertEvents(1, "1 second");
        return eventsOlderThanADay();
    }

    @Test
    void publishedRowsOlderThanTheRetentionAreDeletedAndNewerOnesKept() throws Exception {
        try (Recorder recorder = record();
                RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            insertEvents(30, "5 days");
            insertEvents(10, "1 hour");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> recorder.deliveries().size() == 40);

            await().atMost(Duration.ofSeconds(30)).until(() -> eventsOlderThanADayWhileEventsFlow() == 0);
            assertThat(db.queryLong("SELECT count(*) FROM events WHERE created_at < now() - interval '30 minutes'"))
                    .as("the rows younger than the retention")
                    .isEqualTo(10);
            assertThat(relay.relay().metrics().scrape()).containsPattern("relay_events_pruned_total 30\\.0");
        }
        // The range asked for is older than what is kept: republish says so.
        try (RelayProcess p =
                RelayProcess.start(env, "republish-" + UUID.randomUUID(), "republish", "--from-id", "1")) {
            assertThat(p.awaitExit(Duration.ofSeconds(60))).as(p.output()).isZero();
            assertThat(p.output())
                    .contains("warning: the oldest events row kept is id 31")
                    .contains("RELAY_EVENTS_RETENTION_HOURS=72")
                    .containsPattern("republished [1-9][0-9]+ events");
        }
    }

    @Test
    void rowsStayWhileAnotherSlotOfTheDatabaseHasNotConfirmedThem() throws Exception {
        String lagging =
                "it_lagging_" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 40), 36);
        db.execute("SELECT pg_create_logical_replication_slot('" + lagging + "', 'pgoutput')");
        try (Recorder recorder = record();
                RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            insertEvents(20, "5 days");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> recorder.deliveries().size() == 20);
            long passes = relay.relay().metrics().prunePassesTotal();

            await().atMost(Duration.ofSeconds(30))
                    .until(() -> eventsOlderThanADayWhileEventsFlow() >= 0
                            && relay.relay().metrics().prunePassesTotal() >= passes + 5);
            assertThat(eventsOlderThanADay())
                    .as("rows the slot " + lagging + " has not confirmed")
                    .isEqualTo(20);

            db.execute("SELECT pg_drop_replication_slot('" + lagging + "')");
            await().atMost(Duration.ofSeconds(30)).until(() -> eventsOlderThanADayWhileEventsFlow() == 0);
        }
    }

    @Test
    void handledDeadLettersGoAfterTheirRetentionAndNewOnesStay() throws Exception {
        db.execute(deadLetter(
                "replayed-long-ago", "replayed", "now() - interval '40 days'", "NULL", "now() - interval '41 days'"));
        db.execute(deadLetter(
                "discarded-long-ago", "discarded", "NULL", "now() - interval '40 days'", "now() - interval '41 days'"));
        db.execute(deadLetter("discarded-before-v9", "discarded", "NULL", "NULL", "now() - interval '41 days'"));
        db.execute(deadLetter(
                "replayed-yesterday", "replayed", "now() - interval '1 day'", "NULL", "now() - interval '41 days'"));
        db.execute(deadLetter("new-and-old", "new", "NULL", "NULL", "now() - interval '400 days'"));
        try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong("SELECT count(*) FROM dead_letters") == 2);
            assertThat(db.queryLong("SELECT count(*) FROM dead_letters WHERE dedupe_key IN"
                            + " ('replayed-yesterday', 'new-and-old')"))
                    .isEqualTo(2);
            assertThat(relay.relay().metrics().scrape()).containsPattern("relay_dead_letters_pruned_total 3\\.0");
        }
    }

    private static String deadLetter(
            String key, String status, String replayedAt, String discardedAt, String capturedAt) {
        return "INSERT INTO dead_letters (reason, body, dedupe_key, status, replayed_at, discarded_at, captured_at)"
                + " VALUES ('rejected', '\\x7b7d', '" + key + "', '" + status + "', " + replayedAt + ", " + discardedAt
                + ", " + capturedAt + ")";
    }
}
