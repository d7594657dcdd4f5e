package dev.outbox.bench;

import com.rabbitmq.client.DeliverCallback;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * What the benchmark consumer saw: a count, the first and last arrival, and for messages a
 * writer registered with its commit time, the commit-to-consumer latency (same JVM, same
 * monotonic clock).
 */
final class Deliveries {

    private final AtomicInteger received = new AtomicInteger();
    private final AtomicLong firstAt = new AtomicLong();
    private final AtomicLong lastAt = new AtomicLong();
    /** messageId -> {commit time, arrival time}; whichever of writer and consumer comes second records the latency. */
    private final Map<String, long[]> pending = new ConcurrentHashMap<>();

    private volatile LatencyLog latencies = new LatencyLog();

    DeliverCallback callback() {
        return (tag, delivery) -> {
            long now = System.nanoTime();
            firstAt.compareAndSet(0, now);
            lastAt.set(now);
            received.incrementAndGet();
            String id = messageId(delivery.getProperties());
            long[] times = id == null ? null : pending.get(id);
            if (times != null) {
                arrived(id, times, now);
            }
        };
    }

    /** The AMQP message id, or the {@code message-id} header where a publisher sets no property (the anchor). */
    private static String messageId(com.rabbitmq.client.AMQP.BasicProperties props) {
        if (props.getMessageId() != null) {
            return props.getMessageId();
        }
        Object header = props.getHeaders() == null ? null : props.getHeaders().get("message-id");
        if (header == null) {
            return null;
        }
        String id = header instanceof byte[] bytes
                ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                : header.toString();
        // Debezium Server writes header values as JSON by default: a string comes quoted.
        return id.length() > 1 && id.startsWith("\"") && id.endsWith("\"") ? id.substring(1, id.length() - 1) : id;
    }

    /** Before the commit: the event is expected (so an arrival that beats the writer's clock read is not lost). */
    void expect(String messageId) {
        pending.put(messageId, new long[2]);
    }

    /** After the commit returned. */
    void committed(String messageId, long nanos) {
        long[] times = pending.get(messageId);
        synchronized (times) {
            times[0] = nanos;
            if (times[1] != 0) {
                latencies.add(nanos, Math.max(0, times[1] - nanos));
                pending.remove(messageId);
            }
        }
    }

    private void arrived(String messageId, long[] times, long now) {
        synchronized (times) {
            times[1] = now;
            if (times[0] != 0) {
                latencies.add(times[0], now - times[0]);
                pending.remove(messageId);
            }
        }
    }

    int received() {
        return received.get();
    }

    long firstAt() {
        return firstAt.get();
    }

    long lastAt() {
        return lastAt.get();
    }

    /** Starts a new latency log (and forgets arrival times); returns the previous log. */
    LatencyLog reset() {
        LatencyLog previous = latencies;
        latencies = new LatencyLog();
        firstAt.set(0);
        lastAt.set(0);
        return previous;
    }

    /** Messages registered as committed and not seen yet. */
    int missing() {
        return pending.size();
    }

    static void await(BooleanSupplier condition, long timeout, TimeUnit unit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    /** Latencies in nanoseconds with the commit time each was measured from, appended concurrently. */
    static final class LatencyLog {
        private long[] values = new long[1 << 16];
        private long[] commits = new long[1 << 16];
        private int size;

        synchronized void add(long commitNanos, long nanos) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
                commits = java.util.Arrays.copyOf(commits, size * 2);
            }
            commits[size] = commitNanos;
            values[size++] = nanos;
        }

        synchronized long[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }

        /**
         * Latency over the run in buckets of {@code bucketMillis} by commit time: one line per
         * bucket, "seconds count p50 max" (ms), after the wall-clock time of the first commit. Shows
         * whether a tail is one stall or spread out.
         */
        synchronized String timeline(int bucketMillis) {
            if (size == 0) {
                return "";
            }
            long first = java.util.Arrays.stream(commits, 0, size).min().orElse(0);
            java.util.TreeMap<Long, java.util.List<Long>> buckets = new java.util.TreeMap<>();
            for (int i = 0; i < size; i++) {
                buckets.computeIfAbsent(
                                (commits[i] - first) / (bucketMillis * 1_000_000L), k -> new java.util.ArrayList<>())
                        .add(values[i]);
            }
            // The wall-clock start lets a stall be matched with the relay's, PostgreSQL's and RabbitMQ's logs.
            java.time.Instant start = java.time.Instant.now().minusNanos(System.nanoTime() - first);
            StringBuilder out = new StringBuilder("# first commit " + start + "\n# seconds events p50_ms max_ms\n");
            buckets.forEach((bucket, latencies) -> {
                java.util.Collections.sort(latencies);
                out.append(String.format(
                        java.util.Locale.ROOT,
                        "%.1f %d %.1f %.1f%n",
                        bucket * bucketMillis / 1000.0,
                        latencies.size(),
                        latencies.get(latencies.size() / 2) / 1e6,
                        latencies.get(latencies.size() - 1) / 1e6));
            });
            return out.toString();
        }
    }
}
