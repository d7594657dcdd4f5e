package dev.outbox.relay;

import static org.awaitility.Awaitility.await;

import dev.outbox.relay.config.RelayConfig;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** A relay running in the test's JVM on its own thread; {@link #close()} stops it as SIGTERM would. */
final class RelayHarness implements AutoCloseable {

    private final Relay relay;
    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private RelayHarness(RelayConfig config) {
        this.relay = new Relay(config);
        this.thread = new Thread(
                () -> {
                    try {
                        relay.run();
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                },
                "relay-under-test");
    }

    static RelayHarness start(Map<String, String> env) {
        RelayHarness harness = new RelayHarness(RelayConfig.from(env));
        harness.thread.start();
        return harness;
    }

    /** Waits until the relay streams and is connected to the broker. */
    RelayHarness awaitReady() {
        await("relay ready")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    if (failure.get() != null) {
                        throw new AssertionError("relay failed", failure.get());
                    }
                    return relay.readiness() == null;
                });
        return this;
    }

    String readiness() {
        return relay.readiness();
    }

    Relay relay() {
        return relay;
    }

    Throwable failure() {
        return failure.get();
    }

    boolean isRunning() {
        return thread.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        relay.stop();
        thread.join(60_000);
    }
}
