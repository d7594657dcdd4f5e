package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Publisher;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The relay with the SDK: one wire format, dead letters captured by the relay, and the CLI tools. */
class RelayToolsIT {

    private static TestDatabase db;
    private static TestVhost vhost;
    private static Map<String, String> env;
    private final Outbox outbox = new Outbox();

    @BeforeAll
    static void setUp() {
        db = PostgresFixture.get().createDatabase("relay_tools");
        Migrations.apply(db.dataSource());
        vhost = RabbitFixture.get().newVirtualHost("relay-tools");
        env = RelayEnv.forTest(db, RabbitFixture.get());
        env.put("RELAY_RABBITMQ_URI", vhost.uri());
        env.put("RELAY_CAPTURE_DEAD_LETTERS", "true");
        env.put("RELAY_APP_ID", "tools");
    }

    @AfterAll
    static void tearDown() {
        if (vhost != null) {
            vhost.close();
        }
        if (db != null) {
            db.close();
        }
    }

    private Recorder record(String queue, String binding) {
        return Recorder.bind(RabbitFixture.connectionFactory(vhost.uri()), queue, binding);
    }

    @Test
    void relayAndPublisherSendTheSameMessage() throws Exception {
        try (Recorder recorder = record("wire", "wire:wire.#");
                RelayHarness relay = RelayHarness.start(env).awaitReady();
                Broker broker = Broker.connect(BrokerConfig.of(vhost.uri()).withAppId("tools"));
                Publisher publisher = new Publisher(broker)) {
            OutboxEvent event = OutboxEvent.builder("wire.created.v1")
                    .payload("{\"id\":1}")
                    .header("tenant", "acme")
                    .aggregate("order", "o-1")
                    .build();
            outbox.inTransaction(db.dataSource(), c -> outbox.append(c, event));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> recorder.deliveries().size() == 1);
            publisher.send(event);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> recorder.deliveries().size() == 2);

            Recorder.Delivery fromRelay = recorder.deliveries().get(0);
            Recorder.Delivery direct = recorder.deliveries().get(1);
            // One expected message: everything equal but the per-message values and the row id.
            for (Recorder.Delivery d : List.of(fromRelay, direct)) {
                assertThat(d.exchange()).isEqualTo("wire");
                assertThat(d.routingKey()).isEqualTo("wire.created.v1");
                assertThat(d.properties().getDeliveryMode()).isEqualTo(2);
                assertThat(d.properties().getContentType()).isEqualTo("application/json");
                assertThat(d.properties().getAppId()).isEqualTo("tools");
                assertThat(d.properties().getMessageId()).isNotBlank();
                assertThat(d.properties().getTimestamp()).isNotNull();
                assertThat(d.header("tenant")).isEqualTo("acme");
                assertThat(d.header("aggregate-type")).isEqualTo("order");
                assertThat(d.header("aggregate-id")).isEqualTo("o-1");
                assertThat(d.header("created-at")).isNotNull();
                assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(d.body()))
                        .isEqualTo(new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"id\":1}"));
            }
            Map<String, Object> relayHeaders =
                    new HashMap<>(fromRelay.properties().getHeaders());
            assertThat(relayHeaders.remove("event-id"))
                    .as("only outbox rows have an event id")
                    .isNotNull();
            assertThat(relayHeaders.keySet())
                    .isEqualTo(direct.properties().getHeaders().keySet());
        }
    }

    @Test
    void relayCapturesUnroutableEventsAndTheCliListsShowsAndReplaysThem() throws Exception {
        try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            String key = "orphan.created";
            UUID id = outbox.inTransaction(db.dataSource(), c -> outbox.append(c, key, "{\"n\":5}"))
                    .messageId();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> db.queryLong("SELECT count(*) FROM dead_letters WHERE message_id = '" + id
                                    + "' AND reason = 'unroutable'")
                            == 1);
            long rowId = db.queryLong("SELECT id FROM dead_letters WHERE message_id = '" + id + "'");

            assertThat(cli("list", "dead-letters", "list", "--reason", "unroutable"))
                    .contains(id.toString())
                    .contains("orphan.created");
            assertThat(cli("show", "dead-letters", "show", Long.toString(rowId)))
                    .contains("\"n\" : 5")
                    .contains("\"reason\" : \"unroutable\"");

            try (Recorder recorder = record("orphans", "orphan:orphan.#")) {
                assertThat(cli("replay", "dead-letters", "replay", Long.toString(rowId)))
                        .contains("replayed 1 dead letters");
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> recorder.messageIds().contains(id.toString()));
            }
            assertThat(db.queryLong(
                            "SELECT count(*) FROM dead_letters WHERE id = " + rowId + " AND status = 'replayed'"))
                    .isEqualTo(1);
        }
    }

    @Test
    void tailPrintsWhatPublishSends() throws Exception {
        try (RelayProcess tail = RelayProcess.start(
                env, "tail-" + env.get("RELAY_SLOT"), "tail", "tailed.#", "--count", "1", "--timeout", "60")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> tail.output().contains("tailing tailed.#"));
            String messageId = cli("publish", "publish", "tailed.created", "{\"hello\":\"world\"}", "-H", "k=v")
                    .trim();
            assertThat(tail.awaitExit(Duration.ofSeconds(60))).isZero();
            assertThat(tail.output())
                    .contains("\"message_id\":\"" + lastLine(messageId) + "\"")
                    .contains("\"body\":{\"hello\":\"world\"}")
                    .contains("\"k\":\"v\"");
        }
    }

    @Test
    void republishSendsRowsAgainFromAnIdInOrder() throws Exception {
        List<UUID> ids = outbox
                .inTransaction(
                        db.dataSource(),
                        c -> outbox.appendAll(
                                c,
                                List.of(
                                        OutboxEvent.of("again.a", "{\"i\":1}"),
                                        OutboxEvent.of("again.a", "{\"i\":2}"),
                                        OutboxEvent.of("again.a", "{\"i\":3}"))))
                .stream()
                .map(dev.outbox.db.AppendedEvent::messageId)
                .toList();
        long first = db.queryLong("SELECT min(id) FROM events WHERE routing_key = 'again.a'");
        try (Recorder recorder = record("again", "again:again.#")) {
            assertThat(cli("republish", "republish", "--from-id", Long.toString(first + 1)))
                    .contains("republished 2 events");
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> recorder.deliveries().size() == 2);
            assertThat(recorder.messageIds())
                    .containsExactly(ids.get(1).toString(), ids.get(2).toString());
        }
    }

    @Test
    void publishRefusesBadInputWithExitCode2() throws Exception {
        try (RelayProcess p =
                RelayProcess.start(env, "badpublish-" + env.get("RELAY_SLOT"), "publish", "single", "{}")) {
            assertThat(p.awaitExit(Duration.ofSeconds(30))).isEqualTo(2);
            assertThat(p.output()).contains("at least two dot-separated segments");
        }
    }

    private static String cli(String name, String... args) throws Exception {
        try (RelayProcess p = RelayProcess.start(env, name + "-" + UUID.randomUUID(), args)) {
            int code = p.awaitExit(Duration.ofSeconds(60));
            assertThat(code).as(p.output()).isZero();
            return p.output();
        }
    }

    private static String lastLine(String output) {
        String[] lines = output.trim().split("\n");
        return lines[lines.length - 1].trim();
    }
}
