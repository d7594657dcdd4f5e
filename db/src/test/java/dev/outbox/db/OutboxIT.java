package dev.outbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outbox.protocol.InvalidEventException;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OutboxIT {

    private static TestDatabase db;
    private final Outbox outbox = new Outbox();
    private final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void createDatabase() {
        db = PostgresFixture.get().createDatabase("outbox");
        Migrations.apply(db.dataSource());
        db.execute("CREATE TABLE orders (id text PRIMARY KEY, amount int NOT NULL CHECK (amount > 0))");
    }

    @AfterAll
    static void dropDatabase() {
        if (db != null) {
            db.close();
        }
    }

    @BeforeEach
    void emptyTables() {
        db.execute("TRUNCATE events, orders");
    }

    @Test
    void committedAppendWritesOneRowWithEveryColumnAsGiven() throws Exception {
        UUID messageId = UUID.randomUUID();
        OutboxEvent event = OutboxEvent.builder("order.created.v1")
                .messageId(messageId)
                .payload("{\"id\": \"o-1\", \"amount\": 5}")
                .header("tenant", "acme")
                .aggregate("order", "o-1")
                .correlationId("req-1")
                .build();
        AppendedEvent appended;
        OffsetDateTime before;
        try (Connection c = db.connect()) {
            before = now(c);
            c.setAutoCommit(false);
            appended = outbox.append(c, event);
            c.commit();
        }

        assertThat(appended.messageId()).isEqualTo(messageId);
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT * FROM events")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong("id")).isEqualTo(appended.id());
            assertThat(rs.getObject("message_id", UUID.class)).isEqualTo(messageId);
            assertThat(rs.getString("routing_key")).isEqualTo("order.created.v1");
            assertThat(json.readTree(rs.getString("payload")))
                    .isEqualTo(json.readTree("{\"id\":\"o-1\",\"amount\":5}"));
            assertThat(json.readTree(rs.getString("headers")))
                    .isEqualTo(json.readTree("{\"tenant\":\"acme\",\"correlation-id\":\"req-1\"}"));
            assertThat(rs.getString("aggregate_type")).isEqualTo("order");
            assertThat(rs.getString("aggregate_id")).isEqualTo("o-1");
            assertThat(rs.getObject("created_at", OffsetDateTime.class)).isAfterOrEqualTo(before);
            assertThat(rs.next()).isFalse();
        }
    }

    @Test
    void generatesMessageIdAndDefaultsWhenNotGiven() {
        AppendedEvent appended;
        try (Connection c = db.connect()) {
            appended = outbox.append(c, "order.created", json.createObjectNode().put("n", 1));
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
        assertThat(appended.messageId()).isNotNull();
        assertThat(db.queryLong("SELECT count(*) FROM events WHERE headers = '{}'::jsonb"
                        + " AND aggregate_type IS NULL AND message_id = '" + appended.messageId() + "'"))
                .isEqualTo(1);
    }

    @Test
    void rolledBackAppendLeavesNoRow() throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            outbox.append(c, "order.created", "{}");
            c.rollback();
        }
        assertThat(db.queryLong("SELECT count(*) FROM events")).isZero();
    }

    @Test
    void inTransactionCommitsEntityAndEventTogether() {
        AppendedEvent appended = outbox.saveAndAppend(
                db.dataSource(), c -> insertOrder(c, "o-1", 5), OutboxEvent.of("order.created", "{\"id\":\"o-1\"}"));
        assertThat(appended.id()).isPositive();
        assertThat(db.queryLong("SELECT count(*) FROM orders")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM events")).isEqualTo(1);
    }

    @Test
    void inTransactionRollsBothBackWhenTheEntityFails() {
        assertThatThrownBy(() -> outbox.inTransaction(db.dataSource(), c -> {
                    outbox.append(c, "order.created", "{\"id\":\"o-2\"}");
                    insertOrder(c, "o-2", -1); // violates the orders CHECK
                    return null;
                }))
                .isInstanceOf(OutboxException.class)
                .hasRootCauseInstanceOf(SQLException.class);
        assertThat(db.queryLong("SELECT count(*) FROM orders")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM events")).isZero();
    }

    @Test
    void inTransactionRollsBothBackWhenTheEventFails() {
        assertThatThrownBy(() -> outbox.inTransaction(db.dataSource(), c -> {
                    insertOrder(c, "o-3", 5);
                    // A row the API would refuse, sent as raw SQL: the database constraint refuses it too.
                    try (Statement s = c.createStatement()) {
                        s.execute("INSERT INTO events (routing_key, payload) VALUES ('order', '{}')");
                    }
                    return null;
                }))
                .isInstanceOf(OutboxException.class);
        assertThat(db.queryLong("SELECT count(*) FROM orders")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM events")).isZero();
    }

    @Test
    void inTransactionRethrowsUncheckedFailuresAsTheyAre() {
        IllegalStateException boom = new IllegalStateException("business rule");
        assertThatThrownBy(() -> outbox.inTransaction(db.dataSource(), c -> {
                    insertOrder(c, "o-4", 5);
                    outbox.append(c, "order.created", "{}");
                    throw boom;
                }))
                .isSameAs(boom);
        assertThat(db.queryLong("SELECT count(*) FROM orders")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM events")).isZero();
    }

    @Test
    void appendAllWritesEveryEventInOneStatementInListOrder() throws Exception {
        List<OutboxEvent> events = IntStream.range(0, 250)
                .mapToObj(i -> OutboxEvent.builder(i % 2 == 0 ? "order.created" : "invoice.paid")
                        .payload("{\"n\":" + i + "}")
                        .header("n", Integer.toString(i))
                        .build())
                .toList();
        List<AppendedEvent> appended = outbox.inTransaction(db.dataSource(), c -> outbox.appendAll(c, events));

        assertThat(appended).hasSize(250);
        assertThat(appended).extracting(AppendedEvent::id).isSorted();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT routing_key, payload, headers->>'n' FROM events ORDER BY id")) {
            int i = 0;
            while (rs.next()) {
                assertThat(rs.getString(1)).isEqualTo(events.get(i).routingKey());
                JsonNode payload = json.readTree(rs.getString(2));
                assertThat(payload.get("n").asInt()).isEqualTo(i);
                assertThat(rs.getString(3)).isEqualTo(Integer.toString(i));
                i++;
            }
            assertThat(i).isEqualTo(250);
        }
    }

    @Test
    void concurrentWritersEachRowPresentOnce() throws Exception {
        int threads = 8;
        int perThread = 1000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<UUID>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int writer = t;
                futures.add(pool.submit(() -> {
                    List<UUID> mine = new ArrayList<>(perThread);
                    try (Connection c = db.connect()) {
                        for (int i = 0; i < perThread; i++) {
                            UUID id = UUID.randomUUID();
                            outbox.append(
                                    c,
                                    OutboxEvent.builder("load.w" + writer)
                                            .messageId(id)
                                            .payload("{\"i\":" + i + "}")
                                            .build());
                            mine.add(id);
                        }
                    }
                    return mine;
                }));
            }
            Set<UUID> written = new HashSet<>();
            for (Future<List<UUID>> f : futures) {
                written.addAll(f.get());
            }
            assertThat(written).hasSize(threads * perThread);

            Set<UUID> stored = new HashSet<>();
            try (Connection c = db.connect();
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT message_id FROM events")) {
                while (rs.next()) {
                    assertThat(stored.add(rs.getObject(1, UUID.class)))
                            .as("row present once")
                            .isTrue();
                }
            }
            assertThat(stored).isEqualTo(written);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void invalidEventIsRejectedBeforeAnythingIsWritten() throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            assertThatThrownBy(() -> outbox.append(c, "order", "{}")).isInstanceOf(InvalidEventException.class);
            assertThatThrownBy(() -> outbox.append(c, "order.created", "not json"))
                    .isInstanceOf(InvalidEventException.class);
            // The transaction was not poisoned: nothing was sent to the server.
            outbox.append(c, "order.created", "{}");
            c.commit();
        }
        assertThat(db.queryLong("SELECT count(*) FROM events")).isEqualTo(1);
    }

    private static void insertOrder(Connection c, String id, int amount) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (id, amount) VALUES (?, ?)")) {
            ps.setString(1, id);
            ps.setInt(2, amount);
            ps.executeUpdate();
        }
    }

    private static OffsetDateTime now(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT now()")) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class).minus(Duration.ofMillis(1));
        }
    }
}
