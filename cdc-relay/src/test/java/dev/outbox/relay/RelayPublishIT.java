package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.AppendedEvent;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RabbitScope;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.TestDatabase;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What a running relay publishes, against real PostgreSQL and RabbitMQ. */
class RelayPublishIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private static TestDatabase db;
    private static RelayHarness relay;
    private static RabbitScope rabbit;
    private static String orders;
    private static String invoices;
    private static String slot;
    private final Outbox outbox = new Outbox();

    @BeforeAll
    static void startRelay() {
        db = PostgresFixture.get().createDatabase("relay_publish");
        rabbit = BROKER.scope();
        orders = rabbit.exchange("order");
        invoices = rabbit.exchange("invoice");
        Map<String, String> env = RelayEnv.forTest(db, BROKER);
        env.put("RELAY_MAX_MESSAGE_BYTES", "4096");
        slot = env.get("RELAY_SLOT");
        relay = RelayHarness.start(env).awaitReady();
    }

    @AfterAll
    static void stopRelay() throws Exception {
        try {
            if (relay != null) {
                relay.close();
            }
        } finally {
            if (rabbit != null) {
                rabbit.close();
            }
            if (db != null) {
                db.close();
            }
        }
    }

    private final List<Recorder> recorders = new ArrayList<>();

    @AfterEach
    void closeRecorders() {
        recorders.forEach(Recorder::close);
    }

    private Recorder record(String... bindings) {
        Recorder r = Recorder.bind(BROKER, rabbit.queue("q"), bindings);
        recorders.add(r);
        return r;
    }

    @Test
    void eachBoundQueueReceivesExactlyItsEventsWithTheWireFormatInCommitOrder() throws Exception {
        Recorder created = record(orders + ":" + orders + ".created.*");
        Recorder allOrders = record(orders + ":#");
        Recorder paid = record(invoices + ":" + invoices + ".paid");

        List<AppendedEvent> createdEvents = new ArrayList<>();
        List<AppendedEvent> orderEvents = new ArrayList<>();
        List<AppendedEvent> paidEvents = new ArrayList<>();
        Instant before = Instant.now().minusSeconds(1);
        for (int tx = 0; tx < 5; tx++) {
            int t = tx;
            outbox.inTransaction(db.dataSource(), c -> {
                for (int i = 0; i < 20; i++) {
                    AppendedEvent e = outbox.append(
                            c,
                            OutboxEvent.builder(orders + ".created.v1")
                                    .payload("{\"tx\":" + t + ",\"i\":" + i + "}")
                                    .header("tenant", "acme")
                                    .aggregate("order", "o-" + t + "-" + i)
                                    .build());
                    createdEvents.add(e);
                    orderEvents.add(e);
                    orderEvents.add(outbox.append(c, orders + ".shipped", "{\"tx\":" + t + "}"));
                    paidEvents.add(outbox.append(c, invoices + ".paid", "{\"i\":" + i + "}"));
                }
                return null;
            });
        }

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(created.deliveries()).hasSize(createdEvents.size());
            assertThat(allOrders.deliveries()).hasSize(orderEvents.size());
            assertThat(paid.deliveries()).hasSize(paidEvents.size());
        });
        assertThat(created.messageIds()).containsExactlyElementsOf(ids(createdEvents));
        assertThat(allOrders.messageIds()).containsExactlyElementsOf(ids(orderEvents));
        assertThat(paid.messageIds()).containsExactlyElementsOf(ids(paidEvents));

        Recorder.Delivery first = created.deliveries().get(0);
        AppendedEvent firstEvent = createdEvents.get(0);
        assertThat(first.exchange()).isEqualTo(orders);
        assertThat(first.routingKey()).isEqualTo(orders + ".created.v1");
        assertThat(first.properties().getDeliveryMode()).isEqualTo(2);
        assertThat(first.properties().getContentType()).isEqualTo("application/json");
        assertThat(first.properties().getAppId()).isEqualTo("it-relay");
        assertThat(first.properties().getTimestamp().toInstant())
                .isAfter(before)
                .isBefore(Instant.now().plusSeconds(1));
        assertThat(first.header("event-id")).isEqualTo(Long.toString(firstEvent.id()));
        assertThat(Instant.parse(first.header("created-at"))).isAfter(before);
        assertThat(first.header("aggregate-type")).isEqualTo("order");
        assertThat(first.header("aggregate-id")).isEqualTo("o-0-0");
        assertThat(first.header("tenant")).isEqualTo("acme");
        assertThat(first.properties().getHeaders().keySet()).noneMatch(k -> k.startsWith("x-"));
        // The body is the payload as PostgreSQL stores jsonb, not re-encoded by the relay.
        assertThat(first.bodyText()).isEqualTo("{\"i\": 0, \"tx\": 0}");
    }

    @Test
    void rolledBackTransactionPublishesNothing() throws Exception {
        Recorder all = record(orders + ":" + orders + ".rollback.#");
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            outbox.append(c, orders + ".rollback.a", "{}");
            c.rollback();
            AppendedEvent marker = outbox.append(c, orders + ".rollback.b", "{}");
            c.commit();
            await().atMost(Duration.ofSeconds(20)).until(() -> all.deliveries().size() >= 1);
            assertThat(all.messageIds()).containsExactly(marker.messageId().toString());
        }
    }

    @Test
    void updatesAndDeletesOfEventRowsAreNotPublished() throws Exception {
        Recorder all = record(orders + ":" + orders + ".mutate.#");
        AppendedEvent original =
                outbox.inTransaction(db.dataSource(), c -> outbox.append(c, orders + ".mutate.a", "{}"));
        await().atMost(Duration.ofSeconds(20)).until(() -> all.deliveries().size() == 1);
        db.execute("UPDATE events SET payload = '{\"changed\": true}' WHERE id = " + original.id());
        db.execute("DELETE FROM events WHERE id = " + original.id());
        AppendedEvent marker = outbox.inTransaction(db.dataSource(), c -> outbox.append(c, orders + ".mutate.b", "{}"));
        await().atMost(Duration.ofSeconds(20)).until(() -> all.deliveries().size() >= 2);
        assertThat(all.messageIds())
                .containsExactly(
                        original.messageId().toString(), marker.messageId().toString());
    }

    @Test
    void routingKeyWithoutABindingEndsInTheUnroutedQueue() throws Exception {
        String nobody = rabbit.exchange("nobody");
        AppendedEvent lonely = outbox.inTransaction(db.dataSource(), c -> outbox.append(c, nobody + ".created", "{}"));
        try (Recorder unrouted = Recorder.existing(BROKER, "unrouted")) {
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !unrouted.deliveriesOf(
                                    List.of(lonely.messageId().toString()))
                            .isEmpty());
            Recorder.Delivery d = unrouted.deliveriesOf(
                            List.of(lonely.messageId().toString()))
                    .get(0);
            assertThat(d.routingKey()).isEqualTo(nobody + ".created");
            assertThat(d.header("event-id")).isEqualTo(Long.toString(lonely.id()));
        }
    }

    @Test
    void rowsThatCannotBePublishedGoToDlxAndTheNextRowsStillArrive() throws Exception {
        Recorder after = record(orders + ":" + orders + ".after.#");
        String big = "{\"pad\": \"" + "x".repeat(5000) + "\"}";
        long oversize;
        long refused;
        AppendedEvent next;
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            oversize = outbox.append(c, orders + ".after.big", big).id();
            // The exchange 'unrouted' exists as a fanout without an alternate exchange:
            // RabbitMQ refuses to declare it as an event exchange (PRECONDITION_FAILED).
            refused = outbox.append(c, "unrouted.clash", "{}").id();
            next = outbox.append(c, orders + ".after.ok", "{}");
            c.commit();
        }
        try (Recorder dlx = Recorder.existing(BROKER, "dead_letters")) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> after.deliveries().size() >= 1
                            && dlx.deliveries().stream()
                                            .filter(d -> isEvent(d, oversize) || isEvent(d, refused))
                                            .count()
                                    == 2);
            assertThat(after.messageIds()).containsExactly(next.messageId().toString());
            Recorder.Delivery tooBig = dlx.deliveries().stream()
                    .filter(d -> isEvent(d, oversize))
                    .findFirst()
                    .orElseThrow();
            assertThat(tooBig.header("dead-letter-reason")).isEqualTo("relay_error");
            assertThat(tooBig.header("error")).contains("RELAY_MAX_MESSAGE_BYTES");
            assertThat(tooBig.header("original-routing-key")).isEqualTo(orders + ".after.big");
            Recorder.Delivery clash = dlx.deliveries().stream()
                    .filter(d -> isEvent(d, refused))
                    .findFirst()
                    .orElseThrow();
            assertThat(clash.header("error")).contains("refused to declare exchange 'unrouted'");
            assertThat(clash.bodyText()).isEqualTo("{}");
        }
        assertThat(relay.relay().metrics().scrape()).contains("relay_errors_total{reason=\"relay_error\"} 2.0");
    }

    @Test
    void createdAtIsSentAsTheRowsTimeToTheMicrosecond() throws Exception {
        Recorder all = record(orders + ":" + orders + ".dated.#");
        db.execute("INSERT INTO events (routing_key, payload, created_at) VALUES" + " ('" + orders
                + ".dated.a', '{}', '2026-01-02 05:04:05.123456+02')");
        await().atMost(Duration.ofSeconds(20)).until(() -> all.deliveries().size() == 1);
        Recorder.Delivery d = all.deliveries().get(0);
        assertThat(d.header("created-at")).isEqualTo("2026-01-02T03:04:05.123456Z");
        assertThat(d.properties().getTimestamp().toInstant()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
    }

    @Test
    void payloadAndHeadersOutsideAsciiArriveByteForByte() throws Exception {
        Recorder all = record(orders + ":" + orders + ".intl.#");
        String payload = "{\"name\": \"Zoë, 日本, \uD83D\uDE80\"}";
        outbox.inTransaction(
                db.dataSource(),
                c -> outbox.append(
                        c,
                        OutboxEvent.builder(orders + ".intl.a")
                                .payload(payload)
                                .header("city", "Kraków 東京")
                                .build()));
        await().atMost(Duration.ofSeconds(20)).until(() -> all.deliveries().size() == 1);
        Recorder.Delivery d = all.deliveries().get(0);
        assertThat(d.bodyText()).isEqualTo(payload);
        assertThat(d.header("city")).isEqualTo("Kraków 東京");
    }

    @Test
    void anOldRowWithAnInfiniteCreatedAtIsPublishedAndDoesNotStopTheStream() throws Exception {
        Recorder all = record(orders + ":" + orders + ".forever.#");
        // Rows from before the created_at_must_be_finite constraint (it is NOT VALID) may hold 'infinity'.
        db.execute("ALTER TABLE events DROP CONSTRAINT created_at_must_be_finite");
        try {
            db.execute("INSERT INTO events (routing_key, payload, created_at) VALUES ('" + orders
                    + ".forever.a', '{}', 'infinity')");
        } finally {
            db.execute(
                    "ALTER TABLE events ADD CONSTRAINT created_at_must_be_finite CHECK (isfinite(created_at)) NOT VALID");
        }
        AppendedEvent next = outbox.inTransaction(db.dataSource(), c -> outbox.append(c, orders + ".forever.b", "{}"));
        await().atMost(Duration.ofSeconds(20)).until(() -> all.deliveries().size() == 2);
        assertThat(Instant.parse(all.deliveries().get(0).header("created-at")))
                .isAfter(Instant.parse("9999-12-31T23:59:59Z"));
        assertThat(all.deliveries().get(1).messageId())
                .isEqualTo(next.messageId().toString());
    }

    @Test
    void debeziumsLastEventMetricStillNamesTheLastStreamedEvent() throws Exception {
        Recorder all = record(orders + ":" + orders + ".metric.#");
        AppendedEvent event = outbox.inTransaction(db.dataSource(), c -> outbox.append(c, orders + ".metric.a", "{}"));
        await().atMost(Duration.ofSeconds(20)).until(() -> all.deliveries().size() == 1);
        Object lastEvent = ManagementFactory.getPlatformMBeanServer()
                .getAttribute(
                        new ObjectName("debezium.postgres:type=connector-metrics,context=streaming,server=" + slot),
                        "LastEvent");
        // e.g. position: {lsn: 499943304}, key: {"id" : "3"}
        assertThat(lastEvent)
                .asString()
                .containsPattern("\"id\"\\s*:\\s*\"?" + event.id() + "\\b")
                .contains("lsn");
    }

    @Test
    void storedPositionsShowAsNoOffsetWriteFailureInTheMetrics() throws Exception {
        Recorder all = record(orders + ":" + orders + ".stored.#");
        outbox.inTransaction(db.dataSource(), c -> outbox.append(c, orders + ".stored.a", "{}"));
        await().atMost(Duration.ofSeconds(20)).until(() -> all.deliveries().size() == 1);
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(relay.relay().metrics().scrape())
                        .contains("relay_offsets_write_failing_seconds 0.0"));
    }

    private static boolean isEvent(Recorder.Delivery d, long eventId) {
        return Long.toString(eventId).equals(d.header("event-id"));
    }

    private static List<String> ids(List<AppendedEvent> events) {
        return events.stream().map(AppendedEvent::messageId).map(UUID::toString).toList();
    }
}
