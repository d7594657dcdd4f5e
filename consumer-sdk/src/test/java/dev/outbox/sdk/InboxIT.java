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
        try (Subscriber s = new Subscriber(env.broker, "credit.granted", SubscriptionOptions.queue("credits"), "credit-writer")) {
            s.startTransactional(env.db.dataSource(), (h, body, c) -> {
                calls.incrementAndGet();
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO credits VALUES (?, ?)")) {
                    ps.setString(1, (String) h.get("message-id"));
                    ps.setInt(2, body.get("amount").asInt());
                    ps.executeUpdate();
                }
            });
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().messageId("credit-1").deliveryMode(2).build();
            byte[] body = "{\"amount\": 10}".getBytes(StandardCharsets.UTF_8);
            env.publishRaw("credit", "credit.granted", props, body);
            env.publishRaw("credit", "credit.granted", props, body);   // the at-least-once duplicate
            env.publishRaw("credit", "credit.granted",
                    new AMQP.BasicProperties.Builder().messageId("credit-2").build(), body);
            await().atMost(Duration.ofSeconds(15)).until(() -> env.db.queryLong("SELECT count(*) FROM inbox") == 2);
            await().atMost(Duration.ofSeconds(5)).until(() -> env.db.queryLong("SELECT count(*) FROM credits") == 2);
            assertThat(env.db.queryLong("SELECT count(*) FROM credits WHERE message_id = 'credit-1'")).isEqualTo(1);
            assertThat(calls.get()).isEqualTo(2);
        }
    }

    @Test
    void aFailingHandlerLeavesNoTraceInTheInboxOrItsTable() throws Exception {
        try (Subscriber s = new Subscriber(env.broker, "credit.failing", SubscriptionOptions.queue("credits_failing").maxRetries(0),
                "credit-failing")) {
            s.startTransactional(env.db.dataSource(), (h, body, c) -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO credits VALUES ('failing', 1)")) {
                    ps.executeUpdate();
                }
                throw new IllegalStateException("after writing");
            });
            String id = "fail-" + System.nanoTime();
            env.publishRaw("credit", "credit.failing", new AMQP.BasicProperties.Builder().messageId(id).build(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("message_id = '" + id + "'") == 1);
            assertThat(env.db.queryLong("SELECT count(*) FROM credits WHERE message_id = 'failing'")).isZero();
            assertThat(env.db.queryLong("SELECT count(*) FROM inbox WHERE message_id = '" + id + "'")).isZero();
        }
    }

    @Test
    void aMessageWithoutMessageIdCannotBeDeduplicatedAndIsDeadLettered() throws Exception {
        try (Subscriber s = new Subscriber(env.broker, "credit.noid", SubscriptionOptions.queue("credits_noid"), "credit-noid")) {
            s.startTransactional(env.db.dataSource(), (h, body, c) -> { });
            env.publishRaw("credit", "credit.noid", new AMQP.BasicProperties.Builder().build(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(15)).until(() -> env.deadLetters("queue = 'credits_noid'") == 1);
            assertThat(env.deadLetters("queue = 'credits_noid' AND last_error LIKE '%no message-id%'")).isEqualTo(1);
        }
    }
}
