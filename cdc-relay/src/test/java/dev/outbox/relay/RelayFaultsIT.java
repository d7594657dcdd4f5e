package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.protocol.Topology;
import dev.outbox.testing.BrokerFaults;
import dev.outbox.testing.DatabaseFaults;
import dev.outbox.testing.FaultScale;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestVhost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The services fail under a running relay: it recovers by itself and loses nothing. */
class RelayFaultsIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private RelayWorld world;

    @BeforeEach
    void setUp() {
        world = RelayWorld.create("relay_faults", "faults");
    }

    @AfterEach
    void tearDown() {
        world.close();
    }

    private List<String> write(int count, String tag) {
        return world.write(count, tag);
    }

    @ParameterizedTest(name = "shutdown mode {0}")
    @ValueSource(strings = {"fast", "immediate"})
    void postgresRestartedUnderTheRelayIsResumedWithoutAHuman(String mode) throws Exception {
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("faults"), world.exchange() + ":#");
                RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
            List<String> expected = new ArrayList<>(write(200, "before"));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> recorder.deliveries().size() >= 200);
            long restartStarted = System.nanoTime();
            DatabaseFaults.restartPostgres(mode);
            expected.addAll(write(200, "after"));
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> recorder.tally(expected).lost() == 0);
            relay.awaitReady();
            long recoveredMillis = (System.nanoTime() - restartStarted) / 1_000_000;
            Recorder.Tally tally = recorder.tally(expected);
            System.out.println(
                    "scenario postgres-restart-" + mode + ": recovered in " + recoveredMillis + " ms, " + tally);
            assertThat(tally.lost()).isZero();
            assertThat(tally.unexpected()).isZero();
            assertThat(tally.orderViolations())
                    .as("order violations per routing key")
                    .isZero();
        }
    }

    @Test
    void rabbitMqStoppedAndStartedMidStreamLosesNothing() throws Exception {
        // A durable queue, bound, with no consumer while the broker is away (a consumer's connection would die with
        // it).
        String queue = world.rabbit().queue("faults-durable");
        Recorder.bind(BROKER, queue, world.exchange() + ":#").close();
        int outages = FaultScale.pick(1, 3);
        List<String> expected = new ArrayList<>();
        long slowestReady = 0;
        try (RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
            for (int o = 0; o < outages; o++) {
                expected.addAll(write(100, "before" + o));
                BrokerFaults.stopBroker();
                try {
                    expected.addAll(write(100, "during" + o));
                    await().atMost(Duration.ofSeconds(30)).until(() -> relay.readiness() != null);
                    assertThat(relay.readiness()).contains("RabbitMQ");
                } finally {
                    BrokerFaults.startBroker();
                }
                long restarted = System.nanoTime();
                relay.awaitReady();
                slowestReady = Math.max(slowestReady, (System.nanoTime() - restarted) / 1_000_000);
            }
            expected.addAll(write(100, "after"));
            try (Recorder recorder = Recorder.existing(BROKER, queue)) {
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> recorder.tally(expected).lost() == 0);
                Recorder.Tally tally = recorder.tally(expected);
                System.out.println("scenario rabbitmq-stop-start: outages=" + outages + " ready again at most "
                        + slowestReady + " ms after start_app, " + tally);
                assertThat(tally.unexpected()).isZero();
                assertThat(tally.orderViolations())
                        .as("order violations per routing key")
                        .isZero();
            }
        }
    }

    @Test
    void aFullQueueThatRejectsPublishesHoldsBackOnlyItsOwnMessagesAndLosesNothing() throws Exception {
        // Scenario 8: a subscriber queue with x-max-length and overflow=reject-publish, its consumer stopped.
        String full = world.rabbit().queue("full");
        BROKER.withChannel(ch -> {
            Topology.declareUnrouted(ch);
            Topology.declareEventExchange(ch, world.exchange());
            ch.queueDeclare(full, true, false, false, Map.of("x-max-length", 10, "x-overflow", "reject-publish"));
            ch.queueBind(full, world.exchange(), world.exchange() + ".full.#");
        });
        try (Recorder other = Recorder.bind(
                        BROKER, world.rabbit().queue("other"), world.exchange() + ":" + world.exchange() + ".other.#");
                RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
            List<String> toFull = new ArrayList<>();
            List<String> toOther = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                toFull.addAll(write(5, "full.e"));
                toOther.addAll(write(5, "other.e"));
            }
            // 50 events for a queue with room for 10, interleaved with 50 for another queue.
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> other.messageIds().containsAll(toOther));
            assertThat(relay.relay().metrics().parked().get())
                    .as("messages parked after nacks")
                    .isPositive();
            BROKER.withChannel(ch -> assertThat(ch.messageCount(full))
                    .as("the full queue holds its limit")
                    .isEqualTo(10));
            List<String> later = write(5, "other.later");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> other.messageIds().containsAll(later));

            long consumerBack = System.nanoTime();
            try (Recorder drained = Recorder.existing(BROKER, full)) {
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> drained.tally(toFull).lost() == 0);
                Recorder.Tally tally = drained.tally(toFull);
                System.out.println("scenario queue-overflow: events=" + (toFull.size() + toOther.size() + later.size())
                        + " full-queue " + tally + " other-queue " + other.tally(concat(toOther, later))
                        + " drained " + (System.nanoTime() - consumerBack) / 1_000_000
                        + " ms after the consumer came back");
                assertThat(tally.unexpected()).isZero();
                assertThat(other.tally(concat(toOther, later)).lost()).isZero();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> relay.relay().metrics().parked().get() == 0);
            }
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void deadLetterCaptureKilledMidStreamStoresEveryDeadLetterExactlyOnce() throws Exception {
        // Scenario 7: the relay's dead-letter capture SIGKILLed at random moments, i.e. also between
        // a row's commit and its message's ack; the redelivered copies must not become second rows.
        int letters = FaultScale.pick(3000, 20_000);
        int kills = FaultScale.pick(3, 10);
        java.util.Random random = new java.util.Random();
        try (TestVhost vhost = BROKER.newVirtualHost("faults-capture")) {
            world.env().put("RELAY_RABBITMQ_URI", vhost.uri());
            world.env().put("RELAY_CAPTURE_DEAD_LETTERS", "true");
            List<String> ids = new ArrayList<>();
            try (com.rabbitmq.client.Connection c =
                            RabbitFixture.connectionFactory(vhost.uri()).newConnection("it-dead-letters");
                    com.rabbitmq.client.Channel ch = c.createChannel()) {
                Topology.declareDeadLetters(ch);
                ch.confirmSelect();
                for (int i = 0; i < letters; i++) {
                    String id = "dl-" + i + "-" + java.util.UUID.randomUUID();
                    ids.add(id);
                    ch.basicPublish(
                            Topology.DLX,
                            world.exchange() + ".failed",
                            new com.rabbitmq.client.AMQP.BasicProperties.Builder()
                                    .messageId(id)
                                    .deliveryMode(2)
                                    .headers(Map.of(
                                            dev.outbox.protocol.Headers.DEAD_LETTER_ID,
                                            "dlid-" + id,
                                            dev.outbox.protocol.Headers.DEAD_LETTER_REASON,
                                            "rejected",
                                            dev.outbox.protocol.Headers.DEAD_LETTER_QUEUE,
                                            "it_q"))
                                    .build(),
                            ("{\"i\":" + i + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
                ch.waitForConfirmsOrDie(60_000);
            }
            String rows = "SELECT count(*) FROM dead_letters";
            int killed = 0;
            for (int k = 0; k < kills && world.db().queryLong(rows) < letters; k++) {
                try (RelayProcess relay = RelayProcess.start(
                        world.env(), "capture-kill-" + world.env().get("RELAY_SLOT"))) {
                    long seen = world.db().queryLong(rows);
                    long killAt = seen + 50 + random.nextInt(letters / kills);
                    await().atMost(Duration.ofSeconds(90))
                            .until(() -> world.db().queryLong(rows) >= Math.min(killAt, letters));
                    relay.kill();
                    killed++;
                }
            }
            try (RelayProcess relay = RelayProcess.start(
                            world.env(), "capture-kill-" + world.env().get("RELAY_SLOT"))
                    .awaitReady()) {
                await().atMost(Duration.ofSeconds(120)).until(() -> world.db().queryLong(rows) >= letters);
                // Anything redelivered after the last kill has arrived once the queue is empty.
                await().atMost(Duration.ofSeconds(60)).until(() -> queueDepth(vhost, Topology.DEAD_LETTERS_QUEUE) == 0);
                long stored = world.db().queryLong(rows);
                long distinct = world.db().queryLong("SELECT count(DISTINCT message_id) FROM dead_letters");
                System.out.println("scenario capture-kills: dead letters=" + letters + " kills=" + killed + " rows="
                        + stored + " distinct=" + distinct + " lost=" + (letters - distinct) + " duplicates="
                        + (stored - distinct));
                assertThat(distinct).as("every dead letter stored").isEqualTo(letters);
                assertThat(stored).as("no dead letter stored twice").isEqualTo(letters);
            }
        }
    }

    private static long queueDepth(TestVhost vhost, String queue) throws Exception {
        try (com.rabbitmq.client.Connection c =
                        RabbitFixture.connectionFactory(vhost.uri()).newConnection("it-depth");
                com.rabbitmq.client.Channel ch = c.createChannel()) {
            return ch.messageCount(queue);
        }
    }

    @Test
    void relayPausedLongerThanTheBrokerHeartbeatAndWalSenderTimeoutRecoversByItself() throws Exception {
        // SIGSTOP past RabbitMQ's heartbeat timeout (2 x 15 s) in ci; past wal_sender_timeout (60 s) too in full.
        int pauseSeconds = FaultScale.pick(35, 70);
        try (Recorder recorder = Recorder.bind(BROKER, world.rabbit().queue("faults"), world.exchange() + ":#");
                RelayProcess relay = RelayProcess.start(
                                world.env(), "sigstop-" + world.env().get("RELAY_SLOT"))
                        .awaitReady();
                EventWriter writer = new EventWriter(
                        world.db().dataSource(), world.exchange() + ".paused", pauseSeconds * 50 + 500, 50)) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> recorder.deliveries().size() > 50);
            signal("STOP", relay.pid());
            try {
                // The pause is the fault: the process is frozen for this long.
                Thread.sleep(pauseSeconds * 1000L);
            } finally {
                signal("CONT", relay.pid());
            }
            long resumed = System.nanoTime();
            writer.awaitDone();
            List<String> committed = writer.committed();
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> recorder.tally(committed).lost() == 0);
            long recoveredMillis = (System.nanoTime() - resumed) / 1_000_000;
            relay.awaitReady();
            Recorder.Tally tally = recorder.tally(committed);
            System.out.println("scenario relay-sigstop: paused " + pauseSeconds + " s, all delivered " + recoveredMillis
                    + " ms after SIGCONT, " + tally);
            assertThat(tally.unexpected()).isZero();
            assertThat(tally.orderViolations())
                    .as("order violations per routing key")
                    .isZero();
        }
    }

    private static void signal(String name, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + name, Long.toString(pid))
                .inheritIO()
                .start();
        assertThat(p.waitFor()).isZero();
    }

    @Test
    void aDeletedUnroutedQueueIsDeclaredAgainBeforeAnUnroutableEventCountsAsDone() throws Exception {
        try (TestVhost vhost = BROKER.newVirtualHost("faults-unrouted")) {
            world.env().put("RELAY_RABBITMQ_URI", vhost.uri());
            try (RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
                write(1, "warmup");
                await().atMost(Duration.ofSeconds(20)).until(() -> unroutedCount(vhost) == 1);
                try (var c = RabbitFixture.connectionFactory(vhost.uri()).newConnection();
                        var ch = c.createChannel()) {
                    ch.queueDelete("unrouted");
                }
                List<String> lost = write(1, "nobody");
                try (Recorder unrouted = awaitQueue(vhost)) {
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> unrouted.messageIds().containsAll(lost));
                }
            }
        }
    }

    private static long unroutedCount(TestVhost vhost) throws Exception {
        try (var c = RabbitFixture.connectionFactory(vhost.uri()).newConnection();
                var ch = c.createChannel()) {
            return ch.messageCount("unrouted");
        }
    }

    private static Recorder awaitQueue(TestVhost vhost) {
        return await().atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(
                        () -> Recorder.existing(RabbitFixture.connectionFactory(vhost.uri()), "unrouted"),
                        r -> r != null);
    }
}
