package dev.outbox.relay.engine;

import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.ConfirmingPublisher;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.io.IOException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * One run of the embedded Debezium engine on the events table: pgoutput, a publication on
 * that table alone, the relay's slot, offsets in PostgreSQL, a batch handler that publishes
 * with confirms. {@link #start()} runs it on its own thread; {@link #completion()} tells when
 * and how it ended; {@link #close()} stops it after the batch in hand.
 */
public final class OutboxStream implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OutboxStream.class);
    /** At most this often are confirms that came between batches marked: well under the offset flush interval. */
    private static final long SETTLE_MS = 50;

    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private final CompletableFuture<Throwable> completion = new CompletableFuture<>();
    private final String offsetTarget;
    private final String topicPrefix;
    private final BatchHandler handler;
    private volatile boolean polling;
    private Thread thread;
    private final ConfirmingPublisher publisher;
    private volatile boolean settling = true;
    private Thread settler;

    public OutboxStream(RelayConfig config, Database database, ConfirmingPublisher publisher, RelayMetrics metrics) {
        this.topicPrefix = config.slot();
        this.offsetTarget = PostgresOffsetStore.register(new PostgresOffsetStore.Target(
                database::open, config.dbSchema(), config.slot(), metrics::offsetsFailingSince));
        // A stream that ended left its last batches unfinished; they come again from the WAL.
        publisher.abandonInFlight();
        this.publisher = publisher;
        this.handler = new BatchHandler(
                new EventRecords(config.slot(), config.dbSchema()), publisher, metrics, config.maxParked());
        this.engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties(config, offsetTarget))
                .notifying(handler)
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void pollingStarted() {
                        polling = true;
                    }

                    @Override
                    public void pollingStopped() {
                        polling = false;
                    }
                })
                .using((success, message, error) -> {
                    polling = false;
                    stopSettling();
                    completion.complete(success ? null : (error != null ? error : new IllegalStateException(message)));
                })
                .build();
    }

    /** The Debezium properties for {@code config}; public for the test that pins them. */
    public static Properties properties(RelayConfig config, String offsetTarget) {
        Database.UrlParts url = Database.parse(config.dbUrl());
        String table = config.dbSchema() + ".events";
        Properties p = new Properties();
        p.setProperty("name", "cdc-relay-" + config.slot());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("topic.prefix", config.slot());
        p.setProperty("database.hostname", url.host());
        p.setProperty("database.port", Integer.toString(url.port()));
        p.setProperty("database.dbname", url.database());
        p.setProperty("database.user", config.dbUser());
        p.setProperty("database.password", config.dbPassword().reveal());
        p.setProperty("database.tcpKeepAlive", "true");
        for (Map.Entry<String, String> e : url.parameters().entrySet()) {
            if (e.getKey().startsWith("ssl")) {
                p.setProperty("database." + e.getKey(), e.getValue());
            }
        }
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", config.slot());
        p.setProperty("publication.name", config.publication());
        p.setProperty("publication.autocreate.mode", "filtered");
        p.setProperty("table.include.list", table);
        // Rows committed before the first start are published too: the first run snapshots the
        // table, in id order, then streams from the slot it created at the snapshot's position.
        p.setProperty("snapshot.mode", "initial");
        p.setProperty("snapshot.select.statement.overrides", table);
        p.setProperty("snapshot.select.statement.overrides." + table, "SELECT * FROM " + table + " ORDER BY id");
        // Only inserts are events; updates and deletes of old rows are the application's business.
        p.setProperty("skipped.operations", "u,d,t");
        p.setProperty("tombstones.on.delete", "false");
        // created_at as epoch microseconds, not ISO text to be parsed again (CreatedAtConverter).
        p.setProperty("converters", "createdat");
        p.setProperty("createdat.type", CreatedAtConverter.class.getName());
        p.setProperty("max.batch.size", Integer.toString(config.maxBatchSize()));
        p.setProperty("max.queue.size", Integer.toString(config.maxQueueSize()));
        // A count alone would let max.queue.size events of the largest payload the table takes fill the heap.
        p.setProperty("max.queue.size.in.bytes", Integer.toString(config.maxQueueBytes()));
        p.setProperty("poll.interval.ms", Long.toString(config.pollInterval().toMillis()));
        if (!config.heartbeatInterval().isZero()) {
            p.setProperty(
                    "heartbeat.interval.ms",
                    Long.toString(config.heartbeatInterval().toMillis()));
            // A WAL message moves the slot on even when only other tables change (pgoutput skips
            // their empty transactions, so without it the slot would pin WAL indefinitely).
            p.setProperty(
                    "heartbeat.action.query",
                    "SELECT pg_logical_emit_message(false, 'cdc-relay-heartbeat', now()::text)");
        }
        // Offsets in PostgreSQL, stored when a batch is finished and RELAY_OFFSET_FLUSH_INTERVAL_MS
        // (100 ms by default) has passed since the last time, and at a clean stop: per batch, Debezium's
        // own bookkeeping of a commit cost more than the events at low rates; a crash replays up to
        // that interval more (docs/decisions/005-offset-flush-interval.md).
        p.setProperty("offset.storage", PostgresOffsetStore.class.getName());
        p.setProperty(PostgresOffsetStore.TARGET_PROPERTY, offsetTarget);
        p.setProperty(
                "offset.flush.interval.ms",
                Long.toString(config.offsetFlushInterval().toMillis()));
        p.setProperty("offset.flush.timeout.ms", "60000");
        // The relay restarts the engine itself, with backoff, re-running the start-up checks.
        p.setProperty("errors.max.retries", "0");
        // A slot held by another relay fails fast, so this one reports itself as a standby and
        // retries every few seconds instead of waiting in Debezium's own 6 x 10 s loop.
        p.setProperty("slot.max.retries", "1");
        p.setProperty("slot.retry.delay.ms", "1000");
        p.setProperty("status.update.interval.ms", "1000");
        p.setProperty("include.unknown.datatypes", "false");
        return p;
    }

    public void start() {
        thread = new Thread(engine, "debezium-engine");
        thread.setDaemon(false);
        thread.start();
        // Confirms that arrive while no batch comes (the end of a burst, a quiet stream) are marked
        // here, and parked messages retried, instead of waiting for the next event or heartbeat.
        settler = new Thread(this::settleUntilStopped, "relay-settle");
        settler.setDaemon(true);
        settler.start();
    }

    /**
     * Whether Debezium's replication connection is up, read from its streaming metrics MBean
     * ({@code Connected}); polling alone does not prove the slot is streaming.
     */
    public static boolean replicationConnected(String topicPrefix) {
        try {
            Object connected = java.lang.management.ManagementFactory.getPlatformMBeanServer()
                    .getAttribute(
                            new javax.management.ObjectName(
                                    "debezium.postgres:type=connector-metrics,context=streaming,server=" + topicPrefix),
                            "Connected");
            return Boolean.TRUE.equals(connected);
        } catch (javax.management.JMException e) {
            return false;
        }
    }

    /**
     * Sleeps until the publisher has news (a confirm moved the confirmed position, a parked
     * message came due), then marks and retries; at most every {@link #SETTLE_MS}. An idle
     * stream wakes nobody.
     */
    private void settleUntilStopped() {
        long seen = Long.MIN_VALUE;
        while (settling) {
            try {
                seen = publisher.awaitNews(seen);
                handler.settle();
                Thread.sleep(SETTLE_MS);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The engine thread meets the same failure with its next batch and ends the stream; here, only say so.
                LOG.debug("Settling confirmed positions failed: {}", e.toString());
            }
        }
    }

    private void stopSettling() {
        settling = false;
        Thread t = settler;
        if (t != null) {
            t.interrupt();
        }
    }

    /** Polling and connected to the slot. */
    public boolean isStreaming() {
        return polling && replicationConnected(topicPrefix);
    }

    /** Completes with {@code null} after a clean stop, or the error that ended the engine. */
    public CompletableFuture<Throwable> completion() {
        return completion;
    }

    @Override
    public void close() {
        stopSettling();
        if (!completion.isDone()) {
            try {
                // The last batch sent is confirmed and its offset stored while the engine still
                // runs, so a clean restart publishes nothing twice.
                handler.finishInFlight();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LOG.warn("Stopped before the last batch was confirmed; it will be published again after restart");
            } catch (RuntimeException e) {
                LOG.warn(
                        "Could not finish the last batch ({}); it will be published again after restart",
                        e.getMessage());
            }
        }
        try {
            engine.close();
        } catch (IOException e) {
            throw new IllegalStateException("could not stop the Debezium engine: " + e.getMessage(), e);
        } finally {
            PostgresOffsetStore.unregister(offsetTarget);
        }
    }
}
