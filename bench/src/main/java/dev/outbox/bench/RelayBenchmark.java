package dev.outbox.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.outbox.db.AppendedEvent;
import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.db.OutboxEvent;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay jar, as a child process, against the local services:
 * (1) drain: N rows written ahead, relay started, time until a consumer has them all (events/s),
 * with the relay's peak RSS and CPU seconds; (2) steady state: a writer at a fixed rate of
 * single-row transactions, commit-to-consumer latency percentiles.
 * Args: rows to drain [100000], steady rate/s [1000], steady seconds [20].
 */
public final class RelayBenchmark {

    public static void main(String[] args) throws Exception {
        int drainRows = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int steadySeconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        Path jar = findJar();
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_relay");
             TestVhost vhost = RabbitFixture.get().newVirtualHost("bench-relay")) {
            Migrations.apply(db.dataSource());
            Map<String, Long> committedAt = new ConcurrentHashMap<>();
            List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicInteger received = new AtomicInteger();
            AtomicLong firstAt = new AtomicLong();
            AtomicLong lastAt = new AtomicLong();
            try (Connection amqp = RabbitFixture.connectionFactory(vhost.uri()).newConnection("bench-consumer");
                 Channel ch = amqp.createChannel()) {
                ch.exchangeDeclare("bench", "topic", true, false, Map.of("alternate-exchange", "unrouted"));
                ch.queueDeclare("bench_relay", true, false, false, null);
                ch.queueBind("bench_relay", "bench", "bench.#");
                ch.basicQos(2000);
                ch.basicConsume("bench_relay", true, (tag, d) -> {
                    long now = System.nanoTime();
                    firstAt.compareAndSet(0, now);
                    lastAt.set(now);
                    received.incrementAndGet();
                    Long committed = committedAt.remove(d.getProperties().getMessageId());
                    if (committed != null) {
                        latencies.add(now - committed);
                    }
                }, tag -> { });

                // (1) drain
                Outbox outbox = new Outbox();
                List<OutboxEvent> chunk = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    chunk.add(OutboxEvent.builder("bench.created").payload(Figures.ORDER_PAYLOAD).build());
                }
                for (int written = 0; written < drainRows; written += 1000) {
                    outbox.inTransaction(db.dataSource(), c -> outbox.appendAll(c, chunk));
                }
                Map<String, String> env = new java.util.HashMap<>(Map.of(
                        "RELAY_DB_URL", db.url(), "RELAY_DB_USER", db.user(), "RELAY_DB_PASSWORD", db.password(),
                        "RELAY_RABBITMQ_URI", vhost.uri(), "RELAY_SLOT", "bench_slot",
                        "RELAY_HTTP_PORT", Integer.toString(freePort()), "RELAY_CAPTURE_DEAD_LETTERS", "false"));
                // Tuning under test: RELAY_* variables of the benchmark's own environment reach the relay.
                System.getenv().forEach((k, v) -> {
                    if (k.startsWith("RELAY_")) {
                        env.put(k, v);
                    }
                });
                ProcessBuilder pb = new ProcessBuilder(javaBin(), "-Xms64m", "-Xmx192m", "-XX:+UseSerialGC", "-jar", jar.toString())
                        .redirectErrorStream(true).redirectOutput(Path.of("target", "bench-relay.log").toFile());
                pb.environment().putAll(env);
                long started = System.nanoTime();
                Process relay = pb.start();
                long peakRss = 0;
                try {
                    while (received.get() < drainRows) {
                        if (!relay.isAlive()) {
                            throw new IllegalStateException("relay exited; see bench/target/bench-relay.log");
                        }
                        peakRss = Math.max(peakRss, rssKb(relay.pid()));
                        TimeUnit.MILLISECONDS.sleep(100);
                        if (System.nanoTime() - started > TimeUnit.MINUTES.toNanos(10)) {
                            throw new IllegalStateException("drain did not finish in 10 minutes: " + received.get());
                        }
                    }
                    double fromStart = (lastAt.get() - started) / 1e9;
                    double fromFirst = (lastAt.get() - firstAt.get()) / 1e9;
                    double cpu = cpuSeconds(relay.pid());
                    Figures.report("relay", String.format("drain %d rows written ahead: %.0f events/s from first to last"
                                    + " message (%.1f s), %.1f s from relay start incl. JVM start; relay peak RSS %d MB,"
                                    + " CPU %.1f s (%.1f s per 100k events)", drainRows, drainRows / fromFirst, fromFirst, fromStart,
                            peakRss / 1024, cpu, cpu * 100_000 / drainRows));

                    // (2) steady state: 4 writers, each a quarter of the rate, single-row transactions
                    latencies.clear();
                    int writers = 4;
                    long intervalNanos = TimeUnit.SECONDS.toNanos(1) * writers / rate;
                    long begin = System.nanoTime();
                    long end = begin + TimeUnit.SECONDS.toNanos(steadySeconds);
                    long warmupEnd = begin + TimeUnit.SECONDS.toNanos(2);
                    AtomicInteger written = new AtomicInteger();
                    int before = received.get();
                    List<Thread> threads = new ArrayList<>();
                    for (int w = 0; w < writers; w++) {
                        long offset = w * intervalNanos / writers;
                        Thread t = new Thread(() -> {
                            long next = begin + offset;
                            try (java.sql.Connection c = db.connect()) {
                                c.setAutoCommit(false);
                                while (System.nanoTime() < end) {
                                    AppendedEvent e = outbox.append(c, OutboxEvent.builder("bench.steady").payload(Figures.ORDER_PAYLOAD).build());
                                    c.commit();
                                    long committed = System.nanoTime();
                                    if (committed > warmupEnd) {
                                        committedAt.put(e.messageId().toString(), committed);
                                    }
                                    written.incrementAndGet();
                                    next += intervalNanos;
                                    long wait = next - System.nanoTime();
                                    if (wait > 0) {
                                        TimeUnit.NANOSECONDS.sleep(wait);
                                    }
                                }
                            } catch (Exception ex) {
                                throw new IllegalStateException(ex);
                            }
                        });
                        t.start();
                        threads.add(t);
                    }
                    for (Thread t : threads) {
                        t.join();
                    }
                    int target = before + written.get();
                    long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (received.get() < target && System.nanoTime() < waitUntil) {
                        TimeUnit.MILLISECONDS.sleep(50);
                    }
                    long[] l;
                    synchronized (latencies) {
                        l = latencies.stream().mapToLong(Long::longValue).toArray();
                    }
                    Figures.report("relay", String.format("steady %d events/s offered (%.0f/s written) for %d s, commit to"
                                    + " consumer: %s; lost %d", rate, written.get() / (double) steadySeconds, steadySeconds,
                            Figures.latencies(l), target - received.get()));
                } finally {
                    relay.destroy();
                    relay.waitFor(60, TimeUnit.SECONDS);
                    relay.destroyForcibly();
                }
            }
        }
        System.exit(0);
    }

    private static Path findJar() {
        for (String candidate : List.of("cdc-relay/target/cdc-relay.jar", "../cdc-relay/target/cdc-relay.jar")) {
            if (Files.exists(Path.of(candidate))) {
                return Path.of(candidate).toAbsolutePath();
            }
        }
        throw new IllegalStateException("cdc-relay/target/cdc-relay.jar not found: run ./mvnw package first");
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /** utime + stime of the process, from /proc/PID/stat, in seconds (clock ticks of 100 Hz). */
    private static double cpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
