package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * RELAY_DB_SCHEMA other than public, written with capitals: every part of the relay uses that
 * schema. Before, the dead-letter capture and the dead-letters CLI wrote and read an unqualified
 * dead_letters, found in the search path's public schema or nowhere, and the capture retried
 * that for ever.
 */
class NamedSchemaIT {

    @Test
    void relayCaptureAndCliAllWorkInAMixedCaseSchemaOtherThanPublic() throws Exception {
        try (TestDatabase db = PostgresFixture.get().createDatabase("relay_schema");
                TestVhost vhost = RabbitFixture.get().newVirtualHost("schema")) {
            Map<String, String> env = RelayEnv.forTest(db, RabbitFixture.get());
            env.put("RELAY_DB_SCHEMA", "Outbox_IT");
            env.put("RELAY_RABBITMQ_URI", vhost.uri());
            env.put("RELAY_CAPTURE_DEAD_LETTERS", "true");
            try (Recorder events = Recorder.bind(
                            RabbitFixture.connectionFactory(vhost.uri()), "schema_events", "schemaorder:#");
                    RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                // PostgreSQL folds an unquoted name to lower case; so does the relay.
                assertThat(
                                db.queryLong(
                                        "SELECT count(*) FROM information_schema.tables"
                                                + " WHERE table_schema = 'outbox_it' AND table_name IN ('events', 'dead_letters', 'relay_offsets')"))
                        .isEqualTo(3);
                Outbox outbox = Outbox.forTable("outbox_it.events");
                String id = outbox.inTransaction(
                                db.dataSource(),
                                c -> outbox.append(c, OutboxEvent.of("schemaorder.created", "{\"n\":1}")))
                        .messageId()
                        .toString();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> events.messageIds().contains(id));

                String dead = "schema-dead-" + UUID.randomUUID();
                try (Connection c = RabbitFixture.connectionFactory(vhost.uri()).newConnection("schema-raw");
                        Channel ch = c.createChannel()) {
                    ch.basicPublish(
                            "DLX",
                            "schemaorder.created",
                            new AMQP.BasicProperties.Builder()
                                    .messageId(dead)
                                    .deliveryMode(2)
                                    .headers(Map.of("dead-letter-reason", "rejected", "dead-letter-queue", "q"))
                                    .build(),
                            "{}".getBytes(StandardCharsets.UTF_8));
                }
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> db.queryLong(
                                        "SELECT count(*) FROM outbox_it.dead_letters WHERE message_id = '" + dead + "'")
                                == 1);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> db.queryLong("SELECT count(*) FROM outbox_it.relay_offsets") > 0);

                try (RelayProcess list =
                        RelayProcess.start(env, "schema-list-" + env.get("RELAY_SLOT"), "dead-letters", "list")) {
                    assertThat(list.awaitExit(Duration.ofSeconds(60)))
                            .as(list.output())
                            .isZero();
                    assertThat(list.output()).contains(dead);
                }
                try (RelayProcess status =
                        RelayProcess.start(env, "schema-status-" + env.get("RELAY_SLOT"), "status")) {
                    assertThat(status.awaitExit(Duration.ofSeconds(60)))
                            .as(status.output())
                            .isZero();
                }
            }
        }
    }
}
