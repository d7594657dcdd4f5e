package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.testing.BrokerFaults;
import dev.outbox.testing.FaultScale;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayProcess;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Stops, restarts and crashes: every committed row arrives, and a clean restart re-publishes nothing. */
class RelayRecoveryIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private RelayWorld world;

    @BeforeEach
    void setUp() {
        world = RelayWorld.create("relay_recovery", "rec");
    }

    @AfterEach
    void tearDown() {
        world.close();
    }

    private List<String> write(int count, String tag) {
        return world.write(count, tag);
    }

    @Test
    void rowsCommittedBeforeFirstStartAndWhileStoppedArriveAndACleanRestartRepublishesNothing() throws Exception {
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("rec"), world.exchange() + ":#")) {
            List<String> expected = new ArrayList<>(write(50, "before_first_start"));
            try (RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
                expected.addAll(write(50, "while_running"));
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> recorder.deliveries().size() >= 100);
            }
            expected.addAll(write(50, "while_stopped"));
            try (RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> recorder.deliveries().size() >= 150);
                // Give a wrongly re-published batch every chance to show up before counting.
                List<String> marker = write(1, "marker");
                expected.addAll(marker);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> recorder.messageIds().containsAll(marker));
            }
            Recorder.Tally tally = recorder.tally(expected);
            System.out.println("scenario clean-restart: " + tally);
            assertThat(tally.lost()).isZero();
            assertThat(tally.unexpected()).isZero();
            assertThat(tally.orderViolations())
                    .as("order violations per routing key")
                    .isZero();
            assertThat(tally.duplicates())
                    .as("a restart after a clean stop re-publishes nothing")
                    .isZero();
            assertThat(recorder.messageIds()).containsExactlyElementsOf(expected);
            // created_at reaches the header unchanged whether the row came from the snapshot or the WAL.
            Map<String, Instant> createdAt = createdAtByMessageId();
            for (Recorder.Delivery d : recorder.deliveries()) {
                assertThat(Instant.parse(d.header("created-at")))
                        .as("created-at of " + d.messageId())
                        .isEqualTo(createdAt.get(d.messageId()));
            }
        }
    }

    private Map<String, Instant> createdAtByMessageId() throws Exception {
        Map<String, Instant> createdAt = new HashMap<>();
        try (Connection c = world.db().connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT message_id::text, created_at FROM events")) {
            while (rs.next()) {
                createdAt.put(
                        rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant());
            }
        }
        return createdAt;
    }

    @Test
    void theLastBatchOfABurstIsAcknowledgedToPostgresWithoutAnyFurtherEvent() throws Exception {
        // The relay finishes a batch (confirms, offset, slot position) while it reads the next one;
        // after the last event of a burst, the heartbeat that follows must finish it instead.
        String slot = world.env().get("RELAY_SLOT");
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("rec"), world.exchange() + ":#");
                RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
            List<String> burst = write(20, "burst");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> recorder.messageIds().containsAll(burst));
            long lsnAfterBurst = world.db().queryLong("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> world.db()
                                    .queryLong("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot
                                            + "'" + " AND confirmed_flush_lsn - '0/0'::pg_lsn >= " + lsnAfterBurst)
                            == 1);
        }
    }

    @Test
    void sigkilledRelayLosesNothing() throws Exception {
        // ci: 3,000 events, 1 writer, 3 kills; full: 50,000 events, 4 writers, 10 kills at random moments.
        int writers = FaultScale.pick(1, 4);
        int events = FaultScale.pick(3000, 50_000);
        int kills = FaultScale.pick(3, 10);
        java.util.Random random = new java.util.Random();
        List<EventWriter> writerList = new ArrayList<>();
        long started = System.nanoTime();
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("rec"), world.exchange() + ":#")) {
            for (int w = 0; w < writers; w++) {
                // A routing key per writer: concurrent writers of one key commit in another order than their ids.
                writerList.add(new EventWriter(
                        world.db().dataSource(),
                        world.exchange() + ".steady.w" + w,
                        events / writers,
                        FaultScale.pick(500, 250)));
            }
            long maxRecoverMillis = 0;
            for (int k = 0; k < kills; k++) {
                long restartedAt = System.nanoTime();
                try (RelayProcess relay = RelayProcess.start(
                                world.env(), "sigkill-" + world.env().get("RELAY_SLOT"))
                        .awaitReady()) {
                    int seen = recorder.deliveries().size();
                    await().atMost(Duration.ofSeconds(60))
                            .until(() -> recorder.deliveries().size() > seen || allDone(writerList));
                    maxRecoverMillis = Math.max(maxRecoverMillis, (System.nanoTime() - restartedAt) / 1_000_000);
                    int runFor = 100 + random.nextInt(FaultScale.pick(400, 4000));
                    await().atMost(Duration.ofSeconds(60))
                            .until(() -> recorder.deliveries().size() > seen + runFor || allDone(writerList));
                    relay.kill();
                }
                // The pause before the restart is the fault itself: 0 to 3 s with the relay dead.
                Thread.sleep(random.nextInt(FaultScale.pick(1000, 3000)));
            }
            for (EventWriter w : writerList) {
                w.awaitDone();
            }
            try (RelayProcess relay = RelayProcess.start(
                            world.env(), "sigkill-" + world.env().get("RELAY_SLOT"))
                    .awaitReady()) {
                List<String> committed = new ArrayList<>();
                writerList.forEach(w -> committed.addAll(w.committed()));
                await().atMost(Duration.ofSeconds(120))
                        .until(() -> recorder.tally(committed).lost() == 0);
                Recorder.Tally tally = recorder.tally(committed);
                System.out.println(
                        "scenario relay-sigkill: events=" + committed.size() + " writers=" + writers + " kills=" + kills
                                + " " + tally + " slowest restart-to-first-delivery=" + maxRecoverMillis + " ms total="
                                + (System.nanoTime() - started) / 1_000_000_000 + " s");
                assertThat(tally.lost()).isZero();
                assertThat(tally.unexpected()).isZero();
                assertThat(tally.orderViolations())
                        .as("order violations per routing key")
                        .isZero();
                assertThat(relay.terminate()).as("exit code after SIGTERM").isZero();
            }
        } finally {
            for (EventWriter w : writerList) {
                w.close();
            }
        }
    }

    private static boolean allDone(List<EventWriter> writers) {
        return writers.stream().allMatch(EventWriter::done);
    }

    @Test
    void brokerClosingTheConnectionMidStreamLosesNothing() throws Exception {
        world.env().put("RELAY_APP_ID", "it-close-" + world.env().get("RELAY_SLOT"));
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("rec"), world.exchange() + ":#");
                RelayHarness relay = RelayHarness.start(world.env()).awaitReady();
                EventWriter writer =
                        new EventWriter(world.db().dataSource(), world.exchange() + ".steady", 5000, 500)) {
            for (int i = 0; i < 3; i++) {
                int seen = recorder.deliveries().size();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> recorder.deliveries().size() > seen + 100 || writer.done());
                assertThat(BrokerFaults.closeConnections(world.env().get("RELAY_APP_ID")))
                        .isPositive();
            }
            // Once the relay is publishing again, nothing more is re-published: a close fails only
            // the batches sent on the closed channel, never the ones sent on its replacement.
            int resumed = recorder.deliveries().size();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> recorder.deliveries().size() > resumed + 200 || writer.done());
            long republishedAfterRecovery = relay.relay().metrics().republishedTotal();
            writer.awaitDone();
            List<String> committed = writer.committed();
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> recorder.tally(committed).lost() == 0);
            Recorder.Tally tally = recorder.tally(committed);
            System.out.println("scenario broker-closes-connection: closes=3 " + tally + " republished="
                    + relay.relay().metrics().republishedTotal());
            assertThat(tally.unexpected()).isZero();
            assertThat(tally.orderViolations())
                    .as("order violations per routing key")
                    .isZero();
            assertThat(relay.relay().metrics().republishedTotal())
                    .as("re-published after the relay had recovered")
                    .isEqualTo(republishedAfterRecovery);
            await().atMost(Duration.ofSeconds(20)).until(() -> relay.readiness() == null);
        }
    }

    @Test
    void sigtermStopsCleanlyWithExitCodeZeroAndStoresTheOffset() throws Exception {
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("rec"), world.exchange() + ":#")) {
            List<String> first = write(100, "a");
            try (RelayProcess relay = RelayProcess.start(
                            world.env(), "sigterm-" + world.env().get("RELAY_SLOT"))
                    .awaitReady()) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> recorder.deliveries().size() >= 100);
                assertThat(relay.terminate()).isZero();
            }
            assertThat(world.db()
                            .queryLong("SELECT count(*) FROM relay_offsets WHERE slot_name = '"
                                    + world.env().get("RELAY_SLOT") + "'"))
                    .isPositive();
            List<String> second = write(10, "b");
            try (RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> recorder.messageIds().containsAll(second));
            }
            List<String> all = new ArrayList<>(first);
            all.addAll(second);
            assertThat(recorder.tally(all).duplicates()).isZero();
        }
    }
}
