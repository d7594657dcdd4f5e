package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.db.OutboxEvent;
import dev.outbox.testing.BrokerFaults;
import dev.outbox.testing.DatabaseFaults;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RabbitScope;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The services fail under a running relay: it recovers by itself and loses nothing. */
class RelayFaultsIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private final Outbox outbox = new Outbox();
    private TestDatabase db;
    private RabbitScope rabbit;
    private String exchange;
    private Map<String, String> env;

    @BeforeEach
    void setUp() {
        db = PostgresFixture.get().createDatabase("relay_faults");
        Migrations.apply(db.dataSource());
        rabbit = BROKER.scope();
        exchange = rabbit.exchange("faults");
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

    @ParameterizedTest(name = "shutdown mode {0}")
    @ValueSource(strings = {"fast", "immediate"})
    void postgresRestartedUnderTheRelayIsResumedWithoutAHuman(String mode) throws Exception {
        try (Recorder recorder = Recorder.bind(BROKER, rabbit.queue("faults"), exchange + ":#");
             RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            List<String> expected = new ArrayList<>(write(200, "before"));
            await().atMost(Duration.ofSeconds(30)).until(() -> recorder.deliveries().size() >= 200);
            long restartStarted = System.nanoTime();
            DatabaseFaults.restartPostgres(mode);
            expected.addAll(write(200, "after"));
            await().atMost(Duration.ofSeconds(90)).until(() -> recorder.tally(expected).lost() == 0);
            relay.awaitReady();
            long recoveredMillis = (System.nanoTime() - restartStarted) / 1_000_000;
            Recorder.Tally tally = recorder.tally(expected);
            System.out.println("PostgreSQL restart (" + mode + "), recovered in " + recoveredMillis + " ms: " + tally);
            assertThat(tally.lost()).isZero();
            assertThat(tally.unexpected()).isZero();
        }
    }

    @Test
    void rabbitMqStoppedAndStartedMidStreamLosesNothing() throws Exception {
        // A durable queue, bound, with no consumer while the broker is away (a consumer's connection would die with it).
        String queue = rabbit.queue("faults-durable");
        Recorder.bind(BROKER, queue, exchange + ":#").close();
        List<String> expected = new ArrayList<>();
        try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            expected.addAll(write(100, "before"));
            BrokerFaults.stopBroker();
            try {
                expected.addAll(write(100, "during"));
                await().atMost(Duration.ofSeconds(30)).until(() -> relay.readiness() != null);
                assertThat(relay.readiness()).contains("RabbitMQ");
            } finally {
                BrokerFaults.startBroker();
            }
            long restarted = System.nanoTime();
            relay.awaitReady();
            System.out.println("RabbitMQ stop/start: ready again " + (System.nanoTime() - restarted) / 1_000_000 + " ms after start_app");
            expected.addAll(write(100, "after"));
            try (Recorder recorder = Recorder.existing(BROKER, queue)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> recorder.tally(expected).lost() == 0);
                Recorder.Tally tally = recorder.tally(expected);
                System.out.println("RabbitMQ stop/start: " + tally);
                assertThat(tally.unexpected()).isZero();
            }
        }
    }

    @Test
    void aDeletedUnroutedQueueIsDeclaredAgainBeforeAnUnroutableEventCountsAsDone() throws Exception {
        try (TestVhost vhost = BROKER.newVirtualHost("faults-unrouted")) {
            env.put("RELAY_RABBITMQ_URI", vhost.uri());
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                write(1, "warmup");
                await().atMost(Duration.ofSeconds(20)).until(() -> unroutedCount(vhost) == 1);
                try (var c = RabbitFixture.connectionFactory(vhost.uri()).newConnection(); var ch = c.createChannel()) {
                    ch.queueDelete("unrouted");
                }
                List<String> lost = write(1, "nobody");
                try (Recorder unrouted = awaitQueue(vhost)) {
                    await().atMost(Duration.ofSeconds(30)).until(() -> unrouted.messageIds().containsAll(lost));
                }
            }
        }
    }

    private static long unroutedCount(TestVhost vhost) throws Exception {
        try (var c = RabbitFixture.connectionFactory(vhost.uri()).newConnection(); var ch = c.createChannel()) {
            return ch.messageCount("unrouted");
        }
    }

    private static Recorder awaitQueue(TestVhost vhost) {
        return await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> Recorder.existing(RabbitFixture.connectionFactory(vhost.uri()), "unrouted"), r -> r != null);
    }
}
