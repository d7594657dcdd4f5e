package dev.outbox.relay.metrics;

import dev.outbox.protocol.DeadLetterReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** The relay's meters, exposed in Prometheus text format on {@code /metrics}. */
public final class RelayMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> publishedByExchange = new ConcurrentHashMap<>();
    private final Map<String, Counter> errorsByReason = new ConcurrentHashMap<>();
    private final Timer batchPublish;
    private final Timer commitToConfirm;
    private final DistributionSummary batchSize;
    private final Counter republished;
    private final AtomicInteger unconfirmed = new AtomicInteger();
    private final AtomicInteger parked = new AtomicInteger();
    private final AtomicLong slotLagBytes = new AtomicLong(-1);
    private final AtomicInteger brokerConnected = new AtomicInteger();
    private final AtomicInteger streaming = new AtomicInteger();
    private final AtomicLong offsetsFailingSince = new AtomicLong();
    private final Counter eventsPruned;
    private final Counter deadLettersPruned;
    private final Counter prunePasses;
    private static final int RATE_SAMPLES = 16;
    private final java.util.ArrayDeque<long[]> publishedSamples = new java.util.ArrayDeque<>();
    /** created_at of the oldest events row, epoch ms; 0 when the table is empty or not yet read. */
    private final AtomicLong oldestEventMillis = new AtomicLong();

    public RelayMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        batchPublish = Timer.builder("relay.batch.publish")
                .description("From the first publish of a batch to the broker's confirm of its last message")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        commitToConfirm = Timer.builder("relay.commit.to.confirm")
                .description("From the commit of an events row to RabbitMQ's confirm of its message")
                .publishPercentiles(0.5, 0.95, 0.99)
                .register(registry);
        batchSize = DistributionSummary.builder("relay.batch.size")
                .description("Events per batch handed over by Debezium")
                .register(registry);
        republished = Counter.builder("relay.messages.republished")
                .description("Messages published again after a nack, a confirm timeout or a lost connection")
                .register(registry);
        Gauge.builder("relay.messages.unconfirmed", unconfirmed, AtomicInteger::get)
                .description("Messages published and not yet confirmed")
                .register(registry);
        Gauge.builder("relay.messages.parked", parked, AtomicInteger::get)
                .description(
                        "Messages RabbitMQ nacked (a full queue) waiting to be published again while the stream goes on")
                .register(registry);
        Gauge.builder("relay.slot.lag.bytes", slotLagBytes, AtomicLong::get)
                .description("WAL bytes the replication slot holds back (-1 until measured)")
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder("relay.broker.connected", brokerConnected, AtomicInteger::get)
                .description("1 while the publishing connection to RabbitMQ is open")
                .register(registry);
        Gauge.builder("relay.streaming", streaming, AtomicInteger::get)
                .description("1 while Debezium streams from the slot")
                .register(registry);
        Gauge.builder(
                        "relay.offsets.write.failing",
                        offsetsFailingSince,
                        since -> since.get() == 0 ? 0 : (System.currentTimeMillis() - since.get()) / 1000.0)
                .description(
                        "How long writes of the relay's position to relay_offsets have been failing (0 while they succeed);"
                                + " a restart publishes again what was confirmed since")
                .baseUnit("seconds")
                .register(registry);
        eventsPruned = Counter.builder("relay.events.pruned")
                .description("events rows deleted by the retention rule (RELAY_EVENTS_RETENTION_HOURS)")
                .register(registry);
        deadLettersPruned = Counter.builder("relay.dead.letters.pruned")
                .description("Replayed or discarded dead_letters rows deleted (RELAY_DEAD_LETTERS_RETENTION_HOURS)")
                .register(registry);
        prunePasses = Counter.builder("relay.prune.passes")
                .description("Runs of the retention rules that completed")
                .register(registry);
        Gauge.builder(
                        "relay.events.oldest.age",
                        oldestEventMillis,
                        at -> at.get() == 0 ? 0 : (System.currentTimeMillis() - at.get()) / 1000.0)
                .description(
                        "Age of the oldest row kept in events (0 when empty); stays near the retention when pruning works")
                .baseUnit("seconds")
                .register(registry);
        relayError(RELAY_ERROR, 0);
    }

    /** One run of the retention rules completed: rows deleted, and the oldest events row kept (epoch ms, 0: none). */
    public void pruned(long events, long deadLetters, long oldestEventMillis) {
        eventsPruned.increment(events);
        deadLettersPruned.increment(deadLetters);
        this.oldestEventMillis.set(oldestEventMillis);
        prunePasses.increment();
    }

    /** Offset writes fail since {@code epochMillis}; 0 when they succeed again. */
    public void offsetsFailingSince(long epochMillis) {
        offsetsFailingSince.set(epochMillis);
    }

    public void published(String exchange, int count) {
        publishedByExchange
                .computeIfAbsent(
                        exchange,
                        x -> Counter.builder("relay.events.published")
                                .description("Events published and confirmed")
                                .tag("exchange", x)
                                .register(registry))
                .increment(count);
    }

    /**
     * The reason the relay sets events aside with (dead-letter reason {@code relay_error}). Its
     * counter exists from the start, at 0, so an alert on its increase sees the first one.
     */
    public static final String RELAY_ERROR = DeadLetterReason.RELAY_ERROR;

    public void relayError(String reason) {
        relayError(reason, 1);
    }

    private void relayError(String reason, int count) {
        errorsByReason
                .computeIfAbsent(
                        reason,
                        r -> Counter.builder("relay.errors")
                                .description("Events the relay could not publish and sent to DLX")
                                .tag("reason", r)
                                .register(registry))
                .increment(count);
    }

    public void batch(int size, Duration publishTime) {
        batchSize.record(size);
        batchPublish.record(publishTime);
    }

    public void confirmedAfterCommit(long commitMillis, long nowMillis) {
        if (commitMillis > 0) {
            commitToConfirm.record(Duration.ofMillis(Math.max(0, nowMillis - commitMillis)));
        }
    }

    /** Completed runs of the retention rules so far (relay_prune_passes_total). */
    public long prunePassesTotal() {
        return (long) prunePasses.count();
    }

    /** Messages published again so far (relay_messages_republished_total). */
    public long republishedTotal() {
        return (long) republished.count();
    }

    public void republished(int count) {
        republished.increment(count);
    }

    public AtomicInteger unconfirmed() {
        return unconfirmed;
    }

    public AtomicInteger parked() {
        return parked;
    }

    public void slotLagBytes(long bytes) {
        slotLagBytes.set(bytes);
    }

    /** WAL bytes the slot holds back as last measured; -1 until measured. */
    public long slotLagBytes() {
        return slotLagBytes.get();
    }

    /** Events published and confirmed so far, over every exchange. */
    public long publishedTotal() {
        long total = 0;
        for (Counter c : publishedByExchange.values()) {
            total += (long) c.count();
        }
        return total;
    }

    /** Most (queue, reason) series of relay_dead_letters_new; past it the rest are summed under queue "other". */
    static final int MAX_DEAD_LETTER_SERIES = 500;

    private final Map<String, AtomicLong> newDeadLetters = new ConcurrentHashMap<>();

    /**
     * The {@code new} rows of {@code dead_letters} per queue and reason, as counted just now
     * ({@code counts}: keys {@code [queue, reason]}). A series seen before and absent now reads 0.
     */
    public void newDeadLetters(Map<List<String>, Long> counts) {
        Map<String, Long> next = new java.util.HashMap<>();
        for (Map.Entry<List<String>, Long> e : counts.entrySet()) {
            String queue = e.getKey().get(0) == null ? "" : e.getKey().get(0);
            String key = queue + "\u0000" + e.getKey().get(1);
            if (!newDeadLetters.containsKey(key) && newDeadLetters.size() + next.size() >= MAX_DEAD_LETTER_SERIES) {
                key = "other\u0000" + e.getKey().get(1);
            }
            next.merge(key, e.getValue(), Long::sum);
        }
        for (Map.Entry<String, AtomicLong> known : newDeadLetters.entrySet()) {
            known.getValue().set(next.getOrDefault(known.getKey(), 0L));
        }
        for (Map.Entry<String, Long> e : next.entrySet()) {
            newDeadLetters
                    .computeIfAbsent(e.getKey(), k -> {
                        String[] parts = k.split("\u0000", 2);
                        AtomicLong value = new AtomicLong();
                        Gauge.builder("relay.dead.letters.new", value, AtomicLong::get)
                                .description(
                                        "dead_letters rows still new (not replayed or discarded), per queue and reason")
                                .tag("queue", parts[0])
                                .tag("reason", parts[1])
                                .register(registry);
                        return value;
                    })
                    .set(e.getValue());
        }
    }

    /** Takes a sample of {@link #publishedTotal()}; called about once a second. */
    public void samplePublished() {
        synchronized (publishedSamples) {
            publishedSamples.addLast(new long[] {System.nanoTime(), publishedTotal()});
            while (publishedSamples.size() > RATE_SAMPLES) {
                publishedSamples.removeFirst();
            }
        }
    }

    /** Events published per second over the recent samples (about 15 s); 0 before two samples. */
    public double publishedPerSecond() {
        synchronized (publishedSamples) {
            if (publishedSamples.size() < 2) {
                return 0;
            }
            long[] first = publishedSamples.getFirst();
            long[] last = publishedSamples.getLast();
            double seconds = (last[0] - first[0]) / 1e9;
            return seconds <= 0 ? 0 : (last[1] - first[1]) / seconds;
        }
    }

    public void brokerConnected(boolean connected) {
        brokerConnected.set(connected ? 1 : 0);
    }

    public void streaming(boolean on) {
        streaming.set(on ? 1 : 0);
    }

    public boolean isBrokerConnected() {
        return brokerConnected.get() == 1;
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }
}
