package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.testing.Ports;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayProcess;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Hot standby, heartbeats against WAL growth, health and metrics. */
class RelayOperationsIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private RelayWorld world;

    @BeforeEach
    void setUp() {
        world = RelayWorld.create("relay_ops", "ops");
    }

    @AfterEach
    void tearDown() {
        world.close();
    }

    @Test
    void secondRelayOnTheSameSlotStandsByAndTakesOverWhenTheFirstDies() throws Exception {
        Map<String, String> standbyEnv = new HashMap<>(world.env());
        standbyEnv.put("RELAY_HTTP_PORT", Integer.toString(Ports.free()));
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("ops"), world.exchange() + ":#");
                RelayProcess active = RelayProcess.start(
                                world.env(), "active-" + world.env().get("RELAY_SLOT"))
                        .awaitReady();
                RelayProcess standby =
                        RelayProcess.start(standbyEnv, "standby-" + world.env().get("RELAY_SLOT"));
                EventWriter writer = new EventWriter(world.db().dataSource(), world.exchange() + ".ha", 3000, 300)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> standby.output().contains("standing by"));
            assertThat(standby.readyStatus()).isEqualTo(503);
            assertThat(standby.get("/health/ready")).contains("standby");

            await().atMost(Duration.ofSeconds(30))
                    .until(() -> recorder.deliveries().size() > 300);
            active.kill();
            long killedAt = System.nanoTime();
            standby.awaitReady();
            long takeoverMillis = (System.nanoTime() - killedAt) / 1_000_000;

            writer.awaitDone();
            List<String> committed = writer.committed();
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> recorder.tally(committed).lost() == 0);
            Recorder.Tally tally = recorder.tally(committed);
            System.out.println("scenario hot-standby: takeover " + takeoverMillis + " ms after SIGKILL, " + tally);
            assertThat(tally.unexpected()).isZero();
            assertThat(tally.orderViolations())
                    .as("order violations per routing key")
                    .isZero();
            assertThat(takeoverMillis).as("takeover time").isLessThan(30_000);
        }
    }

    @Test
    void heartbeatsKeepTheSlotMovingWhileOnlyOtherTablesChange() throws Exception {
        world.db().execute("CREATE TABLE busy (id bigserial PRIMARY KEY, pad text)");
        try (RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
            String slot = world.env().get("RELAY_SLOT");
            // 64 MB (ci) or 200 MB (full) of WAL in a table the relay does not watch.
            int chunks = dev.outbox.testing.FaultScale.pick(16, 50);
            for (int i = 0; i < chunks; i++) {
                world.db().execute("INSERT INTO busy (pad) SELECT repeat('x', 1000) FROM generate_series(1, 4000)");
            }
            long written = world.db().queryLong("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
            // The slot must confirm past everything written so far, with no event in between.
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> world.db()
                                    .queryLong("SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint"
                                            + " FROM pg_replication_slots WHERE slot_name = '" + slot + "'")
                            >= written);
            long retained = world.db()
                    .queryLong("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint"
                            + " FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
            System.out.println("scenario wal-idle-events: unrelated writes=" + chunks * 4 + " MB, slot retains "
                    + retained + " bytes");
            assertThat(retained).isLessThan(16L * 1024 * 1024);
        }
    }

    @Test
    void healthAndMetricsShowWhatTheRelayDoes() throws Exception {
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("ops"), world.exchange() + ":#");
                RelayProcess relay = RelayProcess.start(
                                world.env(), "metrics-" + world.env().get("RELAY_SLOT"))
                        .awaitReady()) {
            assertThat(relay.get("/health/live")).contains("UP");
            assertThat(relay.get("/health/ready")).contains("UP");
            world.db()
                    .execute("INSERT INTO events (routing_key, payload) SELECT '" + world.exchange()
                            + ".m', '{}' FROM generate_series(1, 25)");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> recorder.deliveries().size() == 25);
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(relay.get("/metrics"))
                            .contains("relay_events_published_total{exchange=\"" + world.exchange() + "\"} 25.0")
                            .contains("relay_commit_to_confirm_seconds")
                            .contains("relay_batch_size")
                            .contains("relay_messages_unconfirmed")
                            .contains("relay_broker_connected 1.0")
                            .contains("relay_streaming 1.0")
                            .containsPattern("relay_slot_lag_bytes [0-9]"));
        }
    }
}
