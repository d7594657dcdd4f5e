package dev.outbox.testing;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** The environment of one test's relay: its own database, slot, app id and HTTP port. */
public final class RelayEnv {

    private RelayEnv() {}

    public static Map<String, String> forTest(TestDatabase db, RabbitFixture broker) {
        Map<String, String> env = new HashMap<>();
        env.put("RELAY_DB_URL", db.url());
        env.put("RELAY_DB_USER", db.user());
        env.put("RELAY_DB_PASSWORD", db.password());
        env.put("RELAY_RABBITMQ_URI", broker.uri());
        env.put(
                "RELAY_SLOT",
                "it_slot_" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 40), 36));
        env.put("RELAY_APP_ID", "it-relay");
        env.put("RELAY_HTTP_PORT", Integer.toString(Ports.free()));
        env.put("RELAY_HEARTBEAT_INTERVAL_MS", "1000");
        // The dead_letters and unrouted queues are shared in the default virtual host: tests that
        // need the capture turn it on in a virtual host of their own.
        env.put("RELAY_CAPTURE_DEAD_LETTERS", "false");
        return env;
    }
}
