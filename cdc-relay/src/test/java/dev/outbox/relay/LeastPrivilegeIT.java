package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.testing.BrokerFaults;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The relay under the roles of db/roles.sql and a non-guest RabbitMQ user, and secrets that never reach a log line. */
class LeastPrivilegeIT {

    private static final Path ROLES = Path.of("..", "db", "roles.sql");

    @Test
    void relayStreamsUnderItsLeastPrivilegeRoleAndCannotReadOtherTables() throws Exception {
        TestDatabase db = PostgresFixture.get().createDatabase("least_privilege");
        try {
            Migrations.apply(db.dataSource());
            db.execute("CREATE TABLE customer_secrets (card text)");
            db.execute("INSERT INTO customer_secrets VALUES ('4111-1111')");
            db.execute(Files.readString(ROLES));
            db.execute(Files.readString(ROLES)); // idempotent

            Map<String, String> env = RelayEnv.forTest(db, RabbitFixture.get());
            env.put("RELAY_DB_USER", "outbox_relay");
            env.put("RELAY_DB_PASSWORD", "");
            env.put("RELAY_MIGRATE", "false");
            env.put("RELAY_PUBLICATION", "cdc_relay_events");
            env.put("RELAY_PRUNE_INTERVAL_MS", "200");
            String exchange = RabbitFixture.uniqueName("lp");
            try (Recorder recorder =
                            Recorder.bind(RabbitFixture.get(), RabbitFixture.uniqueName("lp"), exchange + ":#");
                    RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                db.execute("INSERT INTO events (routing_key, payload) VALUES ('" + exchange + ".x', '{}')");
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> recorder.deliveries().size() == 1);
                // The retention rules run to the end under the role: a pass counts only when no statement failed.
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> relay.relay().metrics().prunePassesTotal() >= 2);
            } finally {
                RabbitFixture.get().withChannel(ch -> ch.exchangeDelete(exchange));
            }

            try (Connection relayRole = connectAs(db, "outbox_relay")) {
                assertThat(single(relayRole, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"))
                        .isEqualTo("false");
                assertThat(single(relayRole, "SELECT count(*)::text FROM events"))
                        .isEqualTo("1");
                // The retention rules' statements, which the role must be allowed (privileges are checked even when
                // no row matches).
                for (String table : new String[] {"events", "dead_letters"}) {
                    try (var delete = relayRole.createStatement()) {
                        assertThat(delete.executeUpdate("DELETE FROM " + table + " WHERE false"))
                                .as("the relay's role deletes from " + table)
                                .isZero();
                    }
                }
                // The console's audit, which every replay and discard appends to.
                assertThat(single(
                                relayRole,
                                "INSERT INTO console_audit (actor, action) VALUES ('it', 'discard') RETURNING action"))
                        .isEqualTo("discard");
                assertThatThrownBy(() -> single(relayRole, "SELECT card FROM customer_secrets"))
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("permission denied");
                assertThatThrownBy(() -> single(
                                relayRole,
                                "INSERT INTO events (routing_key, payload) VALUES ('a.b', '{}') RETURNING 'x'"))
                        .hasMessageContaining("permission denied");
            }
        } finally {
            db.close();
            for (String role : new String[] {"outbox_relay", "outbox_app", "outbox_consumer"}) {
                try {
                    PostgresFixture.get().admin().createStatement().execute("DROP ROLE IF EXISTS " + role);
                } catch (SQLException stillUsedElsewhere) {
                    // granted in another database too (a developer's own): leave it
                }
            }
        }
    }

    @Test
    void secretsAppearInNoLogLineAtDebugAndANonGuestBrokerUserWorks() throws Exception {
        String dbSecret = "pg-" + UUID.randomUUID();
        String mqSecret = "mq-" + UUID.randomUUID();
        String user = RabbitFixture.uniqueName("relay-user");
        try (TestDatabase db = PostgresFixture.get().createDatabase("secrets");
                TestVhost vhost = RabbitFixture.get().newVirtualHost("secrets")) {
            BrokerFaults.rabbitmqctl("add_user", user, mqSecret);
            try {
                // The relay's documented permission set, with its event exchanges named secret*: RabbitMQ
                // wants read on an exchange declared with an alternate exchange, and on DLX/unrouted to bind.
                String relayResources = "^(secret.*|unrouted|DLX|dead_letters)$";
                BrokerFaults.rabbitmqctl(
                        "set_permissions", "-p", vhost.name(), user, relayResources, relayResources, relayResources);
                URI base = URI.create(vhost.uri());
                Path uriFile = Files.createTempFile("relay-uri", ".txt");
                Files.writeString(
                        uriFile,
                        "amqp://" + user + ":" + mqSecret + "@" + base.getHost() + ":" + base.getPort()
                                + base.getRawPath() + "\n");
                Map<String, String> env = RelayEnv.forTest(db, RabbitFixture.get());
                env.remove("RELAY_RABBITMQ_URI");
                env.put("RELAY_RABBITMQ_URI_FILE", uriFile.toString());
                env.put("RELAY_DB_PASSWORD", dbSecret);
                env.put("RELAY_LOG_LEVEL", "DEBUG");
                env.put("RELAY_CAPTURE_DEAD_LETTERS", "true");
                try (RelayProcess relay = RelayProcess.start(env, "secrets-" + env.get("RELAY_SLOT"))
                        .awaitReady()) {
                    db.execute("INSERT INTO events (routing_key, payload) VALUES ('secret.x', '{\"n\": 1}')");
                    await().atMost(Duration.ofSeconds(30))
                            .until(() ->
                                    db.queryLong("SELECT count(*) FROM dead_letters WHERE reason = 'unroutable'") == 1);
                    assertThat(relay.get("/metrics")).doesNotContain(mqSecret).doesNotContain(dbSecret);
                    assertThat(relay.terminate()).isZero();
                    String output = relay.output();
                    assertThat(output)
                            .contains("DEBUG")
                            .doesNotContain(mqSecret)
                            .doesNotContain(dbSecret);
                } finally {
                    Files.deleteIfExists(uriFile);
                }
            } finally {
                BrokerFaults.rabbitmqctl("delete_user", user);
            }
        }
    }

    @Test
    void aBrokerUserWithoutPermissionsIsToldWhatTheRelayNeeds() throws Exception {
        String user = RabbitFixture.uniqueName("no-perms");
        try (TestDatabase db = PostgresFixture.get().createDatabase("no_perms");
                TestVhost vhost = RabbitFixture.get().newVirtualHost("no-perms")) {
            BrokerFaults.rabbitmqctl("add_user", user, "pw-" + user);
            try {
                BrokerFaults.rabbitmqctl("set_permissions", "-p", vhost.name(), user, "^$", "^$", "^$");
                URI base = URI.create(vhost.uri());
                Map<String, String> env = RelayEnv.forTest(db, RabbitFixture.get());
                env.put(
                        "RELAY_RABBITMQ_URI",
                        "amqp://" + user + ":pw-" + user + "@" + base.getHost() + ":" + base.getPort()
                                + base.getRawPath());
                try (RelayProcess relay = RelayProcess.start(env, "noperms-" + env.get("RELAY_SLOT"))) {
                    assertThat(relay.awaitExit(Duration.ofSeconds(60)))
                            .as(relay.output())
                            .isEqualTo(3);
                    assertThat(relay.output())
                            .contains("refused the relay's user")
                            .contains("ACCESS_REFUSED")
                            .contains("configure and write permission");
                }
            } finally {
                BrokerFaults.rabbitmqctl("delete_user", user);
            }
        }
    }

    private static Connection connectAs(TestDatabase db, String role) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", role);
        p.setProperty("password", "");
        return DriverManager.getConnection(db.url(), p);
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (var s = c.createStatement();
                var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
