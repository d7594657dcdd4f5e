package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.protocol.BrokerTls;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.testing.Ports;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestCertificates;
import dev.outbox.testing.TlsBroker;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * TLS end to end, with a CA made for the test: a RabbitMQ node of its own with a TLS listener,
 * a PostgreSQL cluster of its own serving TLS, both with a certificate for localhost. The relay
 * and the SDK verify the broker's certificate and host name; the relay's JDBC and replication
 * connections use sslmode=verify-full. Untrusted or misnamed certificates are refused with a
 * message that names the setting to change.
 */
@EnabledIf("possibleHere")
class TlsIT {

    private static TestCertificates certs;
    private static TlsBroker broker;
    private static ScratchCluster cluster;

    static boolean possibleHere() {
        return TlsBroker.available() && new java.io.File("/usr/bin/pg_createcluster").canExecute();
    }

    @BeforeAll
    static void startServers() throws Exception {
        certs = TestCertificates.create();
        broker = TlsBroker.start(certs);
        cluster = ScratchCluster.startWithTls(certs);
    }

    @AfterAll
    static void stopServers() throws Exception {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            try {
                if (broker != null) {
                    broker.close();
                }
            } finally {
                certs.close();
            }
        }
    }

    private static String verifiedDbUrl(java.nio.file.Path ca) {
        return "jdbc:postgresql://localhost:" + cluster.port() + "/postgres?sslmode=verify-full&sslrootcert=" + ca;
    }

    private static Map<String, String> env(String dbUrl, String rabbitUri, java.nio.file.Path rabbitCa) {
        Map<String, String> env = new HashMap<>();
        env.put("RELAY_DB_URL", dbUrl);
        env.put("RELAY_DB_USER", "postgres");
        env.put("RELAY_RABBITMQ_URI", rabbitUri);
        if (rabbitCa != null) {
            env.put("RELAY_RABBITMQ_CA_FILE", rabbitCa.toString());
        }
        env.put("RELAY_SLOT", "it_tls_" + ThreadLocalRandom.current().nextInt(1_000_000));
        env.put("RELAY_HTTP_PORT", Integer.toString(Ports.free()));
        env.put("RELAY_HEARTBEAT_INTERVAL_MS", "1000");
        env.put("RELAY_CAPTURE_DEAD_LETTERS", "false");
        return env;
    }

    @Test
    void relayStreamsOverVerifiedTlsFromPostgresToRabbitMq() throws Exception {
        Map<String, String> env = env(verifiedDbUrl(certs.ca()), broker.tlsUri("localhost"), certs.ca());
        String exchange = "tls" + ThreadLocalRandom.current().nextInt(1_000_000);
        com.rabbitmq.client.ConnectionFactory verified = new com.rabbitmq.client.ConnectionFactory();
        BrokerTls.configure(verified, broker.tlsUri("localhost"), certs.ca());
        try (Recorder recorder = Recorder.bind(verified, "tls_rec_" + exchange, exchange + ":#");
                RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            String messageId = UUID.randomUUID().toString();
            try (Connection c = DriverManager.getConnection(verifiedDbUrl(certs.ca()), "postgres", "");
                    Statement s = c.createStatement()) {
                s.execute("INSERT INTO events (routing_key, payload, message_id) VALUES ('" + exchange
                        + ".created', '{\"tls\": true}', '" + messageId + "')");
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> recorder.messageIds().contains(messageId));
                try (ResultSet rs =
                        s.executeQuery("SELECT bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_replication USING (pid)")) {
                    rs.next();
                    assertThat(rs.getBoolean(1))
                            .as("the relay's replication connection uses TLS")
                            .isTrue();
                }
            }
            assertThat(relay.relay().metrics().isBrokerConnected()).isTrue();
        }
    }

    /** Runs the relay jar with {@code env}; it must exit with {@code code}. Its output. */
    private static String exitsWith(int code, Map<String, String> env, String name) throws Exception {
        try (RelayProcess relay = RelayProcess.start(env, name + "-" + env.get("RELAY_SLOT"))) {
            assertThat(relay.awaitExit(Duration.ofSeconds(60)))
                    .as(relay.output())
                    .isEqualTo(code);
            return relay.output();
        }
    }

    @Test
    void brokerCertificateFromAnUntrustedCaStopsTheRelayWithExitCode3() throws Exception {
        assertThat(exitsWith(
                        3,
                        env(verifiedDbUrl(certs.ca()), broker.tlsUri("localhost"), certs.otherCa()),
                        "tls-untrusted"))
                .contains("presented a TLS certificate the relay does not trust")
                .contains("RELAY_RABBITMQ_CA_FILE");
    }

    @Test
    void brokerReachedByANameItsCertificateDoesNotHoldIsRefused() throws Exception {
        // The certificate names localhost, not 127.0.0.1: encryption without the right identity is refused.
        assertThat(exitsWith(3, env(verifiedDbUrl(certs.ca()), broker.tlsUri("127.0.0.1"), certs.ca()), "tls-hostname"))
                .contains("does not name that host");
    }

    @Test
    void databaseCertificateFromAnUntrustedCaIsRefusedWithSslmodeVerifyFull() throws Exception {
        assertThat(exitsWith(
                        3,
                        env(verifiedDbUrl(certs.otherCa()), broker.tlsUri("localhost"), certs.ca()),
                        "tls-db-untrusted"))
                .contains("presented a TLS certificate the relay rejects")
                .contains("sslrootcert");
    }

    @Test
    void sdkVerifiesTheBrokerCertificateAgainstItsCaFile() throws Exception {
        try (Broker ok =
                Broker.connect(BrokerConfig.of(broker.tlsUri("localhost")).withCaFile(certs.ca()))) {
            assertThat(ok.isOpen()).isTrue();
        }
        assertThatThrownBy(() -> Broker.connect(
                        BrokerConfig.of(broker.tlsUri("localhost")).withCaFile(certs.otherCa())))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("OUTBOX_RABBITMQ_CA_FILE");
        // Without a CA file the JVM's trust store decides: it does not know the test's CA.
        assertThatThrownBy(() -> Broker.connect(BrokerConfig.of(broker.tlsUri("localhost"))))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("does not trust");
        assertThatThrownBy(() ->
                        BrokerConfig.of("amqp://guest:guest@localhost:5672/%2F").withCaFile(certs.ca()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not amqps://");
    }

    @Test
    void caFileWithAPlainAmqpUriIsAConfigurationError() throws Exception {
        assertThat(exitsWith(
                        2,
                        env(verifiedDbUrl(certs.ca()), "amqp://guest:guest@localhost:5672/%2F", certs.ca()),
                        "tls-plain"))
                .contains("RELAY_RABBITMQ_CA_FILE is set but RELAY_RABBITMQ_URI is not amqps://");
    }
}
