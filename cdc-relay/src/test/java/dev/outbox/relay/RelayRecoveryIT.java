package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.db.OutboxEvent;
import dev.outbox.testing.BrokerFaults;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RabbitScope;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Stops, restarts and crashes: every committed row arrives, and a clean restart re-publishes nothing. */
class RelayRecoveryIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private final Outbox outbox = new Outbox();
    private TestDatabase db;
    private RabbitScope rabbit;
    private String exchange;
    private Map<String, String> env;

    @BeforeEach
    void setUp() {
        db = PostgresFixture.get().createDatabase("relay_recovery");
        Migrations.apply(db.dataSource());
        rabbit = BROKER.scope();
        exchange = rabbit.exchange("rec");
        env = RelayEnv.forTest(db, BROKER);
    }

    @AfterEach
    void tearDown() {
        rabbit.close();
        db.close();
    }

    private List<String> write(int count, String tag) {
        return outbox.inTransaction(db.dataSource(), c -> outbox.appendAll(c, IntStream.range(0, count)
                        .mapToObj(i -> OutboxEvent.of(exchange + "." + tag, "{\"i\":" + i + "}")).toList()))
                .stream().map(e -> e.messageId().toString()).toList();
    }

    @Test
    void rowsCommittedBeforeFirstStartAndWhileStoppedArriveAndACleanRestartRepublishesNothing() throws Exception {
        try (Recorder recorder = Recorder.bind(BROKER, rabbit.queue("rec"), exchange + ":#")) {
            List<String> expected = new ArrayList<>(write(50, "before_first_start"));
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                expected.addAll(write(50, "while_running"));
                await().atMost(Duration.ofSeconds(30)).until(() -> recorder.deliveries().size() >= 100);
            }
            expected.addAll(write(50, "while_stopped"));
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                await().atMost(Duration.ofSeconds(30)).until(() -> recorder.deliveries().size() >= 150);
                // Give a wrongly re-published batch every chance to show up before counting.
                List<String> marker = write(1, "marker");
                expected.addAll(marker);
                await().atMost(Duration.ofSeconds(30)).until(() -> recorder.messageIds().containsAll(marker));
            }
            Recorder.Tally tally = recorder.tally(expected);
            System.out.println("clean restart: " + tally);
            assertThat(tally.lost()).isZero();
            assertThat(tally.unexpected()).isZero();
            assertThat(tally.duplicates()).as("a restart after a clean stop re-publishes nothing").isZero();
            assertThat(recorder.messageIds()).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void sigkilledRelayLosesNothing() throws Exception {
        try (Recorder recorder = Recorder.bind(BROKER, rabbit.queue("rec"), exchange + ":#");
             EventWriter writer = new EventWriter(db.dataSource(), exchange + ".steady", 3000, 500)) {
            int kills = 3;
            for (int k = 0; k < kills; k++) {
                try (RelayProcess relay = RelayProcess.start(env, "sigkill-" + env.get("RELAY_SLOT")).awaitReady()) {
                    int seen = recorder.deliveries().size();
                    await().atMost(Duration.ofSeconds(30)).until(() -> recorder.deliveries().size() > seen + 200 || writer.done());
                    relay.kill();
                }
            }
            writer.awaitDone();
            try (RelayProcess relay = RelayProcess.start(env, "sigkill-" + env.get("RELAY_SLOT")).awaitReady()) {
                List<String> committed = writer.committed();
                await().atMost(Duration.ofSeconds(60)).until(() -> recorder.tally(committed).lost() == 0);
                Recorder.Tally tally = recorder.tally(committed);
                System.out.println("SIGKILL x" + kills + ": " + tally);
                assertThat(tally.lost()).isZero();
                assertThat(tally.unexpected()).isZero();
                assertThat(relay.terminate()).as("exit code after SIGTERM").isZero();
            }
        }
    }

    @Test
    void brokerClosingTheConnectionMidStreamLosesNothing() throws Exception {
        env.put("RELAY_APP_ID", "it-close-" + env.get("RELAY_SLOT"));
        try (Recorder recorder = Recorder.bind(BROKER, rabbit.queue("rec"), exchange + ":#");
             RelayHarness relay = RelayHarness.start(env).awaitReady();
             EventWriter writer = new EventWriter(db.dataSource(), exchange + ".steady", 5000, 500)) {
            for (int i = 0; i < 3; i++) {
                int seen = recorder.deliveries().size();
                await().atMost(Duration.ofSeconds(30)).until(() -> recorder.deliveries().size() > seen + 100 || writer.done());
                assertThat(BrokerFaults.closeConnections(env.get("RELAY_APP_ID"))).isPositive();
            }
            writer.awaitDone();
            List<String> committed = writer.committed();
            await().atMost(Duration.ofSeconds(60)).until(() -> recorder.tally(committed).lost() == 0);
            Recorder.Tally tally = recorder.tally(committed);
            System.out.println("connection closed x3: " + tally);
            assertThat(tally.unexpected()).isZero();
            await().atMost(Duration.ofSeconds(20)).until(() -> relay.readiness() == null);
        }
    }

    @Test
    void sigtermStopsCleanlyWithExitCodeZeroAndStoresTheOffset() throws Exception {
        try (Recorder recorder = Recorder.bind(BROKER, rabbit.queue("rec"), exchange + ":#")) {
            List<String> first = write(100, "a");
            try (RelayProcess relay = RelayProcess.start(env, "sigterm-" + env.get("RELAY_SLOT")).awaitReady()) {
                await().atMost(Duration.ofSeconds(30)).until(() -> recorder.deliveries().size() >= 100);
                assertThat(relay.terminate()).isZero();
            }
            assertThat(db.queryLong("SELECT count(*) FROM relay_offsets WHERE slot_name = '" + env.get("RELAY_SLOT") + "'"))
                    .isPositive();
            List<String> second = write(10, "b");
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                await().atMost(Duration.ofSeconds(30)).until(() -> recorder.messageIds().containsAll(second));
            }
            List<String> all = new ArrayList<>(first);
            all.addAll(second);
            assertThat(recorder.tally(all).duplicates()).isZero();
        }
    }
}
