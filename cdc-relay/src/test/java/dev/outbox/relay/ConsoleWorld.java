package dev.outbox.relay;

import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.MessageHandler;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriptionOptions;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A relay with the console on, its own database and virtual host, the dead-letter capture
 * running, and helpers to make dead letters the way production does: a subscriber's handler
 * throws, the message goes to DLX, the relay stores it.
 */
final class ConsoleWorld implements AutoCloseable {

    static final String TOKEN = "console-test-token-0123456789";
    static final String USER = "operator";
    static final String PASSWORD = "operator-password";

    final TestDatabase db;
    final TestVhost vhost;
    final RelayHarness relay;
    final Broker broker;
    final String base;
    final HttpClient http =
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private final Outbox outbox = new Outbox();

    private ConsoleWorld(String name, boolean anonymousRead) throws Exception {
        db = PostgresFixture.get().createDatabase(name);
        try {
            Migrations.apply(db.dataSource());
            vhost = RabbitFixture.get().newVirtualHost(name.replace('_', '-'));
            Map<String, String> env = RelayEnv.forTest(db, RabbitFixture.get());
            env.put("RELAY_RABBITMQ_URI", vhost.uri());
            env.put("RELAY_CAPTURE_DEAD_LETTERS", "true");
            env.put("RELAY_CONSOLE_TOKEN", TOKEN);
            env.put("RELAY_CONSOLE_USER", USER);
            env.put("RELAY_CONSOLE_PASSWORD", PASSWORD);
            env.put("RELAY_CONSOLE_ANONYMOUS_READ", Boolean.toString(anonymousRead));
            base = "http://127.0.0.1:" + env.get("RELAY_HTTP_PORT") + "/console";
            relay = RelayHarness.start(env).awaitReady();
            broker = Broker.connect(BrokerConfig.of(vhost.uri()));
        } catch (Exception | Error e) {
            db.close();
            throw e;
        }
    }

    static ConsoleWorld start(String name, boolean anonymousRead) throws Exception {
        return new ConsoleWorld(name, anonymousRead);
    }

    /** A subscriber on {@code queue} for {@code <exchange>.#} with {@code handler}. */
    Subscriber subscribe(String exchange, String queue, MessageHandler handler) throws Exception {
        Subscriber s = new Subscriber(broker, exchange + ".#", SubscriptionOptions.queue(queue), queue);
        s.start(handler);
        return s;
    }

    void append(String routingKey, String payload) {
        outbox.inTransaction(db.dataSource(), c -> outbox.append(c, routingKey, payload));
    }

    /** Waits until {@code queue} has {@code count} dead letters stored. */
    void awaitDeadLetters(String queue, long count) {
        await("dead letters of " + queue)
                .atMost(Duration.ofSeconds(60))
                .until(() -> db.queryLong("SELECT count(*) FROM dead_letters WHERE queue = '" + queue + "'") >= count);
    }

    HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postJson(String path, String authorization, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postForm(String path, String cookie, String origin, String form) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        if (origin != null) {
            b.header("Origin", origin);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String bearer() {
        return "Bearer " + TOKEN;
    }

    @Override
    public void close() throws Exception {
        try {
            broker.close();
            relay.close();
        } finally {
            vhost.close();
            db.close();
        }
    }
}
