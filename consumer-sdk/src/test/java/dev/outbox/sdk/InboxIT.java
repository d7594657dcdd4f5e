package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class InboxIT {

    private static SdkEnvironment env;

    @BeforeAll
    static void setUp() throws Exception {
        env = new SdkEnvironment("inbox");
        env.db.execute("CREATE TABLE credits (message_id text, amount int)");
    }

    @AfterAll
    static void tearDown() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void theSameMessageDeliveredTwiceChangesTheHandlersTableOnce() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (Subscriber s =
                new Subscriber(env.broker, "credit.granted", SubscriptionOptions.queue("credits"), "credit-writer")) {
            s.startTransactional(env.db.dataSource(), (h, body, c) -> {
                calls.incrementAndGet();
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO credits VALUES (?, ?)")) {
                    ps.setString(1, (String) h.get("message-id"));
                    ps.setInt(2, body.get("amount").asInt());
                    ps.executeUpdate();
                }
            });
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                    .messageId("credit-1")
                    .deliveryMode(2)
                    .build();
            byte[] body = "{\"amount\": 10}".getBytes(StandardCharsets.UTF_8);
            env.publishRaw("credit", "credit.granted", props, body);
            env.publishRaw("credit", "credit.granted", props, body); // the at-least-once duplicate
            env.publishRaw(
                    "credit",
                    "credit.granted",
                    new AMQP.BasicProperties.Builder().messageId("credit-2").build(),
                    body);
            await().atMost(Duration.ofSeconds(15)).until(() -> env.db.queryLong("SELECT count(*) FROM inbox") == 2);
            await().atMost(Duration.ofSeconds(5)).until(() -> env.db.queryLong("SELECT count(*) FROM credits") == 2);
            assertThat(env.db.queryLong("SELECT count(*) FROM credits WHERE message_id = 'credit-1'"))
                    .isEqualTo(1);
            assertThat(calls.get()).isEqualTo(2);
        }
    }

    @Test
    void aSerializationFailureOrDeadlockIsRequeuedNotDeadLettered() throws Exception {
        // Every exception but RetryException dead-lettered the message as rejected: a deadlock or a serialization
        // failure, which passes on the next try, filled dead_letters with healthy messages.
        AtomicInteger calls = new AtomicInteger();
        env.db.execute("CREATE TABLE contended_credits (message_id text, amount int)");
        try (Subscriber s = new Subscriber(
                env.broker,
                "credit.contended",
                SubscriptionOptions.queue("credits_contended").maxRetries(0),
                "credit-contended")) {
            s.startTransactional(env.db.dataSource(), (h, body, c) -> {
                try (PreparedStatement ps =
                        c.prepareStatement("INSERT INTO contended_credits VALUES ('contended', 1)")) {
                    ps.executeUpdate();
                }
                String state = switch (calls.incrementAndGet()) {
                    case 1 -> "40001";
                    case 2 -> "40P01";
                    default -> null;
                };
                if (state != null) {
                    try (java.sql.Statement st = c.createStatement()) {
                        st.execute("DO $$ BEGIN RAISE EXCEPTION 'lost a race' USING ERRCODE = '" + state + "'; END $$");
                    }
                }
            });
            String id = "contended-" + System.nanoTime();
            env.publishRaw(
                    "credit",
                    "credit.contended",
                    new AMQP.BasicProperties.Builder().messageId(id).build(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(20))
                    .until(() ->
                            env.db.queryLong("SELECT count(*) FROM inbox" + " WHERE message_id = '" + id + "'") == 1);
            assertThat(calls.get()).isEqualTo(3);
            assertThat(env.db.queryLong("SELECT count(*) FROM contended_credits WHERE message_id = 'contended'"))
                    .isEqualTo(1);
            assertThat(env.deadLetters("message_id = '" + id + "'")).isZero();
        } finally {
            // The other tests count the inbox's rows.
            env.db.execute("DELETE FROM inbox WHERE message_id LIKE 'contended-%'");
        }
    }

    @Test
    void postgresRestartedUnderATransactionalSubscriberDeadLettersNothing() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        env.db.execute("CREATE TABLE restart_credits (message_id text, amount int)");
        try (Subscriber s = new Subscriber(
                env.broker,
                "credit.restart",
                SubscriptionOptions.queue("credits_restart").maxRetries(0),
                "credit-restart")) {
            s.startTransactional(env.db.dataSource(), (h, body, c) -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO restart_credits VALUES (?, 1)")) {
                    ps.setString(1, (String) h.get("message-id"));
                    ps.executeUpdate();
                }
                handled.incrementAndGet();
            });
            java.util.List<String> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 20; i++) {
                ids.add("restart-" + i + "-" + System.nanoTime());
            }
            env.publishRaw(
                    "credit",
                    "credit.restart",
                    new AMQP.BasicProperties.Builder().messageId(ids.get(0)).build(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(15)).until(() -> handled.get() == 1);
            // The pooled connection is now idle; the restart kills it under the subscriber.
            dev.outbox.testing.DatabaseFaults.restartPostgres("fast");
            for (String id : ids.subList(1, ids.size())) {
                env.publishRaw(
                        "credit",
                        "credit.restart",
                        new AMQP.BasicProperties.Builder().messageId(id).build(),
                        "{}".getBytes(StandardCharsets.UTF_8));
            }
            String in = "('" + String.join("','", ids) + "')";
            await().atMost(Duration.ofSeconds(60))
                    .ignoreExceptions()
                    .until(() -> env.db.queryLong(
                                    "SELECT count(DISTINCT message_id) FROM restart_credits WHERE message_id IN " + in)
                            == ids.size());
            assertThat(env.deadLetters("message_id IN " + in)).isZero();
            assertThat(env.db.queryLong("SELECT count(*) FROM restart_credits WHERE message_id IN " + in))
                    .as("each once")
                    .isEqualTo(ids.size());
        } finally {
            env.db.execute("DELETE FROM inbox WHERE message_id LIKE 'restart-%'");
        }
    }

    @Test
    void aFailingHandlerLeavesNoTraceInTheInboxOrItsTable() throws Exception {
        try (Subscriber s = new Subscriber(
                env.broker,
                "credit.failing",
                SubscriptionOptions.queue("credits_failing").maxRetries(0),
                "credit-failing")) {
            s.startTransactional(env.db.dataSource(), (h, body, c) -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO credits VALUES ('failing', 1)")) {
                    ps.executeUpdate();
                }
                throw new IllegalStateException("after writing");
            });
            String id = "fail-" + System.nanoTime();
            env.publishRaw(
                    "credit",
                    "credit.failing",
                    new AMQP.BasicProperties.Builder().messageId(id).build(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = '" + id + "'") == 1);
            assertThat(env.db.queryLong("SELECT count(*) FROM credits WHERE message_id = 'failing'"))
                    .isZero();
            assertThat(env.db.queryLong("SELECT count(*) FROM inbox WHERE message_id = '" + id + "'"))
                    .isZero();
        }
    }

    @Test
    void aMessageWithoutMessageIdCannotBeDeduplicatedAndIsDeadLettered() throws Exception {
        try (Subscriber s =
                new Subscriber(env.broker, "credit.noid", SubscriptionOptions.queue("credits_noid"), "credit-noid")) {
            s.startTransactional(env.db.dataSource(), (h, body, c) -> {});
            env.publishRaw(
                    "credit",
                    "credit.noid",
                    new AMQP.BasicProperties.Builder().build(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("queue = 'credits_noid'") == 1);
            assertThat(env.deadLetters("queue = 'credits_noid' AND last_error LIKE '%no message-id%'"))
                    .isEqualTo(1);
        }
    }
}
