package dev.outbox.relay;

import dev.outbox.relay.config.EnvironmentException;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.console.Console;
import dev.outbox.relay.console.DeadLetterQueries;
import dev.outbox.relay.console.RelayStatus;
import dev.outbox.relay.engine.Database;
import dev.outbox.relay.engine.OutboxStream;
import dev.outbox.relay.engine.Retention;
import dev.outbox.relay.engine.SlotMonitor;
import dev.outbox.relay.engine.StartupChecks;
import dev.outbox.relay.http.HealthServer;
import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.BrokerConnector;
import dev.outbox.relay.publish.ConfirmingPublisher;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay service: checks the environment, applies migrations, then keeps the Debezium
 * engine streaming into RabbitMQ, restarting it with backoff after transient failures
 * (database restart, network) and exiting on permanent ones (credentials, wal_level, a
 * dropped slot). A second relay on the same slot waits as a hot standby until the slot is free.
 */
public final class Relay {

    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);
    private static final long MAX_RESTART_BACKOFF_MS = 10_000;

    private final RelayConfig config;
    private final Database database;
    private final DeadLetterQueries deadLetterCounts;
    private final RelayMetrics metrics = new RelayMetrics();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile OutboxStream stream;
    private volatile ConfirmingPublisher publisher;
    private volatile String notReadyReason = "starting";

    public Relay(RelayConfig config) {
        this.config = config;
        this.database = new Database(config);
        this.deadLetterCounts = new DeadLetterQueries(database.dataSource());
    }

    /**
     * Runs until {@link #stop()} (returns normally) or a permanent failure (throws
     * {@link EnvironmentException}).
     */
    public void run() throws IOException, InterruptedException {
        LOG.info("cdc-relay starting: {}", config.describe());
        BrokerConnector connector = new BrokerConnector(config);
        checkBroker(connector);
        publisher = new ConfirmingPublisher(connector, config, metrics);
        SlotMonitor slotMonitor = new SlotMonitor(database, config.slot(), metrics);
        Retention retention = new Retention(database, config, metrics);
        ScheduledExecutorService maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "relay-maintenance");
            t.setDaemon(true);
            return t;
        });
        // Its own thread: a run that deletes a backlog must not hold up the checks above.
        ScheduledExecutorService pruning = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "relay-retention");
            t.setDaemon(true);
            return t;
        });
        Console console = config.console().enabled()
                ? new Console(config.console(), database.dataSource(), config.brokerConfig("console"), this::status)
                : null;
        try (HealthServer http = new HealthServer(
                config.httpPort(), this::readiness, metrics, console == null ? Console.off() : console)) {
            http.start();
            LOG.info("Health and metrics on http://0.0.0.0:{}/health/ready and /metrics", http.port());
            logConsole(http.port());
            maintenance.scheduleWithFixedDelay(slotMonitor::measure, 0, 10, TimeUnit.SECONDS);
            maintenance.scheduleWithFixedDelay(this::countDeadLetters, 2, 30, TimeUnit.SECONDS);
            if (config.captureDeadLetters()) {
                maintenance.scheduleWithFixedDelay(this::startCaptureOnce, 1, 5, TimeUnit.SECONDS);
            }
            maintenance.scheduleWithFixedDelay(publisher::reconnectIfIdle, 0, 1, TimeUnit.SECONDS);
            maintenance.scheduleWithFixedDelay(
                    () -> {
                        OutboxStream current = stream;
                        metrics.streaming(current != null && current.isStreaming());
                        metrics.samplePublished();
                    },
                    0,
                    1,
                    TimeUnit.SECONDS);
            long pruneMs = config.pruneInterval().toMillis();
            LOG.info("Retention: {}; rules run every {} ms while streaming", Retention.describe(config), pruneMs);
            pruning.scheduleWithFixedDelay(
                    () -> {
                        OutboxStream current = stream;
                        if (current != null && current.isStreaming()) {
                            retention.run();
                        }
                    },
                    pruneMs,
                    pruneMs,
                    TimeUnit.MILLISECONDS);
            streamUntilStopped();
        } finally {
            if (console != null) {
                console.close();
            }
            pruning.shutdownNow();
            maintenance.shutdownNow();
            stopCapture();
            slotMonitor.close();
            retention.close();
            publisher.close();
            stopped.countDown();
        }
    }

    private void streamUntilStopped() throws InterruptedException {
        long backoff = 500;
        while (!stopping) {
            try {
                prepareDatabase();
            } catch (SQLException e) {
                notReadyReason = "database unreachable: " + e.getMessage();
                LOG.warn(
                        "PostgreSQL at {} is not reachable ({}); retrying in {} ms",
                        config.dbEndpoint(),
                        e.getMessage(),
                        backoff);
                Thread.sleep(backoff);
                backoff = Math.min(MAX_RESTART_BACKOFF_MS, backoff * 2);
                continue;
            }
            OutboxStream current = new OutboxStream(config, database, publisher, metrics);
            stream = current;
            notReadyReason = null;
            LOG.info(
                    "Streaming events from slot {} (publication {}) to RabbitMQ at {}",
                    config.slot(),
                    config.publication(),
                    config.rabbitEndpoint());
            current.start();
            Throwable failure;
            try {
                failure = current.completion().get();
            } catch (java.util.concurrent.ExecutionException e) {
                failure = e.getCause();
            }
            stream = null;
            if (stopping) {
                break;
            }
            String reason = rootMessage(failure);
            for (Throwable t = failure; t != null; t = t.getCause()) {
                if (t instanceof EnvironmentException permanent) {
                    throw permanent;
                }
                if (t instanceof LinkageError broken) {
                    // A class missing from the jar fails every restart the same way: stop, loudly.
                    throw new IllegalStateException("the relay jar is incomplete: " + broken, broken);
                }
                if (t.getCause() == t) {
                    break;
                }
            }
            if (reason.contains("is active for PID")) {
                notReadyReason = "standby: slot " + config.slot() + " is in use by another relay";
                LOG.info(
                        "Slot {} is in use by another process; standing by and retrying every {} ms",
                        config.slot(),
                        2000);
                Thread.sleep(2000);
                continue;
            }
            notReadyReason = "streaming stopped: " + reason;
            LOG.warn("Streaming stopped ({}); restarting in {} ms", reason, backoff);
            Thread.sleep(backoff);
            backoff = Math.min(MAX_RESTART_BACKOFF_MS, backoff * 2);
        }
    }

    private volatile dev.outbox.sdk.Broker captureBroker;
    private volatile dev.outbox.sdk.deadletter.DeadLetterCapture capture;
    private volatile boolean schemaReady;

    /** Starts the dead-letter capture once the schema exists and the broker answers; its connection then recovers by itself. */
    private void startCaptureOnce() {
        if (capture != null || !schemaReady || stopping) {
            return;
        }
        try {
            captureBroker = dev.outbox.sdk.Broker.connect(config.brokerConfig("capture"));
            dev.outbox.sdk.deadletter.DeadLetterCapture c =
                    new dev.outbox.sdk.deadletter.DeadLetterCapture(captureBroker, database.dataSource());
            c.start();
            capture = c;
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "Dead-letter capture not started yet ({}); retrying", dev.outbox.protocol.BrokerErrors.describe(e));
            if (captureBroker != null) {
                captureBroker.close();
                captureBroker = null;
            }
        }
    }

    private void stopCapture() {
        if (capture != null) {
            capture.close();
        }
        if (captureBroker != null) {
            captureBroker.close();
        }
    }

    /** Wrong credentials stop the relay at once; an unreachable broker is waited for by the publisher. */
    private void checkBroker(BrokerConnector connector) {
        try (com.rabbitmq.client.Connection c = connector.connect("startup-check")) {
            ConfirmingPublisher.declareTopology(c.createChannel(), connector.endpoint());
        } catch (IOException e) {
            LOG.warn(
                    "RabbitMQ at {} is not reachable yet ({}); streaming waits for it",
                    connector.endpoint(),
                    e.getMessage());
        }
    }

    /** Start-up checks and migrations; permanent problems throw {@link EnvironmentException}. */
    private void prepareDatabase() throws SQLException {
        StartupChecks checks = new StartupChecks(config, database);
        try (Connection c = checks.connect()) {
            checks.checkServer(c);
            if (config.migrate()) {
                database.migrate();
            }
            checks.checkTable(c);
            schemaReady = true;
            checks.checkSlot(c);
        }
    }

    /** Why the relay is not ready, or {@code null}. */
    /** relay_dead_letters_new: what dashboards and the "dead letters growing" alert read. */
    private void countDeadLetters() {
        try {
            metrics.newDeadLetters(deadLetterCounts.newByQueueAndReason());
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Counting new dead letters failed ({}); the gauge keeps its last value", e.getMessage());
        }
    }

    /** The relay as the console's overview shows it. */
    RelayStatus status() {
        return RelayStatus.of(
                readiness(),
                metrics.slotLagBytes(),
                metrics.publishedPerSecond(),
                metrics.unconfirmed().get(),
                metrics.parked().get());
    }

    private void logConsole(int port) {
        RelayConfig.ConsoleAccess access = config.console();
        if (!access.enabled()) {
            LOG.info(
                    "Console off: set RELAY_CONSOLE_TOKEN (or RELAY_CONSOLE_USER and RELAY_CONSOLE_PASSWORD) to turn it on");
        } else if (!access.hasCredentials()) {
            LOG.warn(
                    "Console on http://0.0.0.0:{}/console, read-only and open to anyone who reaches the port"
                            + " (RELAY_CONSOLE_ANONYMOUS_READ); no credential is set, so nobody can replay or discard",
                    port);
        } else {
            LOG.info(
                    "Console on http://0.0.0.0:{}/console (sign-in by {}{}); serve it through TLS where the network is not trusted",
                    port,
                    access.token().isEmpty()
                            ? "user and password"
                            : access.user().isEmpty() ? "token" : "token or user and password",
                    access.anonymousRead() ? "; reading without sign-in allowed" : "");
        }
    }

    String readiness() {
        if (notReadyReason != null) {
            return notReadyReason;
        }
        OutboxStream current = stream;
        if (current == null || !current.isStreaming()) {
            return "not streaming from slot " + config.slot() + " yet";
        }
        if (!metrics.isBrokerConnected()) {
            return "not connected to RabbitMQ at " + config.rabbitEndpoint();
        }
        return null;
    }

    /**
     * Stops reading, waits up to {@code RELAY_SHUTDOWN_TIMEOUT_MS} for the batch in flight to be
     * confirmed and its offset stored, and returns when {@link #run()} has finished.
     */
    public void stop() throws InterruptedException {
        stopping = true;
        notReadyReason = "stopping";
        LOG.info(
                "Stopping: finishing the batch in flight (at most {} ms)",
                config.shutdownTimeout().toMillis());
        ConfirmingPublisher p = publisher;
        if (p != null) {
            p.stopWithin(config.shutdownTimeout().toMillis());
        }
        OutboxStream s = stream;
        if (s != null) {
            s.close();
        }
        stopped.await(config.shutdownTimeout().toMillis() + 5000, TimeUnit.MILLISECONDS);
        LOG.info("Stopped");
    }

    public RelayMetrics metrics() {
        return metrics;
    }

    private static String rootMessage(Throwable t) {
        if (t == null) {
            return "engine stopped";
        }
        Throwable root = t;
        StringBuilder chain = new StringBuilder(String.valueOf(t.getMessage()));
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
            chain.append(" / ").append(root.getMessage());
        }
        return chain.toString();
    }
}
