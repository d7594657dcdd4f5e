package dev.outbox.bench;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.relay.config.Setting;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The whole benchmark in one run, so every ratio compares figures of the same machine at the
 * same time: (1) PostgreSQL appends, (2) RabbitMQ confirmed publishes (plain client, SDK
 * Publisher, relay publisher), (3) relay drain of rows written ahead and its ratio to (2),
 * (4) relay steady-state latency at fixed offered rates, (5) relay RSS and CPU, (6) consumer,
 * (7) writers while the relay prunes old rows (only with {@code --only ...,retention}), (8) the
 * relay and Debezium Server side by side (drain, latency and CPU at fixed rates, idle CPU, RSS).
 * Prints a Markdown table and writes it, the raw figures and a latency plot to
 * {@code bench/target/results/}.
 *
 * <p>Args: {@code --repeats N} [3], {@code --drain ROWS} [200000], {@code --seconds S} per
 * steady-state run [20], {@code --quick} (1 repeat, 20000 rows, 8 s: a smoke run),
 * {@code --only append,broker,drain,steady,consume,anchor,retention} (some parts; ratios to a part not run are left out),
 * {@code --anchor-rates 100,1000,3000} (part 8's rates), {@code --warm S} (part 8's warm-up at each rate) [60],
 * {@code --rates 1000,3000,5000} (the fixed steady-state rates; 50% and 90% of the limit are added when it was measured).
 */
public final class BenchmarkSuite {

    private static final int PLAIN_MESSAGES = 100_000;
    /** The batch the relay under test hands its publisher, so row 2 measures the publisher as the drain runs it. */
    private static final int RELAY_BATCH = Integer.parseInt(
            System.getenv().getOrDefault(Setting.MAX_BATCH_SIZE.variable(), Setting.MAX_BATCH_SIZE.defaultValue()));

    private static final int SDK_MESSAGES = 5_000;
    private static final int CONSUME_MESSAGES = 20_000;
    private static final int WARMUP_SECONDS_PER_RATE = 15;

    private final int repeats;
    private final int drainRows;
    private final int steadySeconds;
    private final java.util.Set<String> parts;
    private final Path out = Path.of("bench", "target", "results");
    private final Map<String, String[]> table = new LinkedHashMap<>();
    private final StringBuilder raw = new StringBuilder();

    private final List<Integer> fixedRates;

    private final List<Integer> anchorRates;
    private final int warmSeconds;

    private BenchmarkSuite(
            int repeats,
            int drainRows,
            int steadySeconds,
            java.util.Set<String> parts,
            List<Integer> fixedRates,
            List<Integer> anchorRates,
            int warmSeconds) {
        this.fixedRates = fixedRates;
        this.anchorRates = anchorRates;
        this.warmSeconds = warmSeconds;
        this.parts = parts;
        this.repeats = repeats;
        this.drainRows = drainRows;
        this.steadySeconds = steadySeconds;
    }

    public static void main(String[] args) throws Exception {
        int repeats = 3;
        int drain = 200_000;
        int seconds = 20;
        java.util.Set<String> parts = java.util.Set.of("append", "broker", "drain", "steady", "consume", "anchor");
        List<Integer> fixedRates = List.of(1000, 3000, 5000);
        List<Integer> anchorRates = List.of(100, 1000, 3000);
        int warm = 60;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--drain" -> drain = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--only" -> parts = java.util.Set.of(args[++i].split(","));
                case "--rates" ->
                    fixedRates = java.util.Arrays.stream(args[++i].split(","))
                            .map(Integer::valueOf)
                            .toList();
                case "--anchor-rates" ->
                    anchorRates = java.util.Arrays.stream(args[++i].split(","))
                            .map(Integer::valueOf)
                            .toList();
                case "--warm" -> warm = Integer.parseInt(args[++i]);
                case "--quick" -> {
                    repeats = 1;
                    drain = 20_000;
                    seconds = 8;
                    warm = 8;
                }
                default ->
                    throw new IllegalArgumentException("unknown argument " + args[i]
                            + "; use --repeats N, --drain ROWS, --seconds S, --warm S, --quick, --only PART,...,"
                            + " --rates R,... or --anchor-rates R,...");
            }
        }
        new BenchmarkSuite(repeats, drain, seconds, parts, fixedRates, anchorRates, warm).run();
        System.exit(0);
    }

    private Stats append100;
    private double ceiling = Double.NaN;

    private void run() throws Exception {
        Files.createDirectories(out);
        // Timelines are named by rate, and the 50% and 90% rates move with the measured limit:
        // an earlier run's files would sit beside this run's as if they were its own.
        try (var old = Files.newDirectoryStream(out, "timeline-*.txt")) {
            for (Path f : old) {
                Files.delete(f);
            }
        }
        log("machine: " + Machine.describe());
        if (parts.contains("append")) {
            appends();
        }
        try (TestVhost vhost = RabbitFixture.get().newVirtualHost("bench-broker")) {
            if (parts.contains("broker")) {
                broker(vhost.uri());
            }
            if (parts.contains("drain")) {
                drain(vhost.uri());
            }
            if (parts.contains("steady")) {
                double limit = Math.min(append100 == null ? Double.NaN : append100.median(), ceiling);
                TreeSet<Integer> rates = new TreeSet<>(fixedRates);
                if (!Double.isNaN(limit)) {
                    rates.addAll(List.of((int) (limit * 0.5), (int) (limit * 0.9)));
                }
                List<LatencyPlot.Point> points = new ArrayList<>();
                steady(vhost.uri(), rates, limit, points);
                LatencyPlot.write(
                        out.resolve("latency.png"),
                        "cdc-relay: commit-to-consumer latency vs offered rate ("
                                + Instant.now().toString().substring(0, 10) + ", " + Machine.cores() + " cores, "
                                + BenchQueue.queueType() + " queue)",
                        points,
                        3000,
                        5,
                        25);
            }
            if (parts.contains("consume")) {
                consume(vhost);
            }
            if (parts.contains("anchor")) {
                String uri = vhost.uri();
                new AnchorComparison(
                                uri,
                                repeats,
                                drainRows,
                                steadySeconds,
                                warmSeconds,
                                anchorRates,
                                ceiling,
                                new AnchorComparison.Report() {
                                    @Override
                                    public void row(String what, String figure, String note) {
                                        BenchmarkSuite.this.row(what, figure, note);
                                    }

                                    @Override
                                    public void log(String line) {
                                        BenchmarkSuite.this.log(line);
                                    }
                                },
                                out.resolve("side-by-side.png"),
                                (db, slot) -> relayEnv(db, uri, slot))
                        .run();
            }
            if (parts.contains("retention")) {
                retention(vhost.uri());
            }
        }
        writeTable();
    }

    /** (1) The PostgreSQL side: outbox appends through the db module's writer. */
    private void appends() throws Exception {
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_append")) {
            Migrations.apply(db.dataSource());
            Stats append1 = repeat("append 1/tx", () -> appendRun(db, 1));
            append100 = repeat("append 100/tx", () -> appendRun(db, 100));
            row(
                    "1. PostgreSQL: outbox appends, 8 threads, 1 event per transaction",
                    append1.describe("%,.0f") + " events/s",
                    "");
            row(
                    "1. PostgreSQL: outbox appends, 8 threads, 100 events per transaction",
                    append100.describe("%,.0f") + " events/s",
                    "");
        }
    }

    /** (2) The RabbitMQ side: confirmed publishes, the plain client's best as the ceiling. */
    private void broker(String uri) throws Exception {
        Deliveries deliveries = new Deliveries();
        try (BenchQueue queue = BenchQueue.open(uri, deliveries.callback())) {
            CpuShares plainCpu = new CpuShares();
            Stats plain = repeat("plain client", () -> {
                double best = 0;
                for (int window : new int[] {1024, 8192}) {
                    CpuShares.Snapshot before = CpuShares.Snapshot.take(0);
                    best = Math.max(best, BrokerLimit.plainClient(uri, PLAIN_MESSAGES, window));
                    plainCpu.add(before, CpuShares.Snapshot.take(0));
                    drained(queue);
                }
                return best;
            });
            ceiling = plain.median();
            Stats relayPublisher = repeat("relay publisher", () -> {
                double rate = BrokerLimit.relayPublisher(uri, PLAIN_MESSAGES, RELAY_BATCH);
                drained(queue);
                return rate;
            });
            Stats sdk1 = repeat("sdk publisher 1 thread", () -> BrokerLimit.sdkPublisher(uri, SDK_MESSAGES / 4, 1));
            Stats sdk8 = repeat("sdk publisher 8 threads", () -> BrokerLimit.sdkPublisher(uri, SDK_MESSAGES, 8));
            drained(queue);
            String shape = " (" + BenchQueue.queueType() + " queue, consumer attached)";
            row(
                    "2. RabbitMQ: plain amqp-client, async confirms, best of windows 1024/8192" + shape,
                    plain.describe("%,.0f") + " msg/s",
                    "the ceiling");
            row(
                    "2. Cores used during the plain-client runs (the harness is the client and the consumer)",
                    plainCpu.describe(),
                    "");
            row(
                    "2. RabbitMQ: relay's ConfirmingPublisher, batches of " + RELAY_BATCH
                            + " (RELAY_MAX_BATCH_SIZE), up to RELAY_CONFIRM_WINDOW unconfirmed",
                    relayPublisher.describe("%,.0f") + " msg/s",
                    pct(relayPublisher.median(), ceiling) + " of the plain client");
            row(
                    "2. RabbitMQ: SDK Publisher.send, 1 thread (waits for each confirm)",
                    sdk1.describe("%,.0f") + " msg/s",
                    pct(sdk1.median(), ceiling) + " of the plain client");
            row(
                    "2. RabbitMQ: SDK Publisher.send, 8 threads sharing one Publisher",
                    sdk8.describe("%,.0f") + " msg/s",
                    pct(sdk8.median(), ceiling) + " of the plain client");
        }
    }

    /** (3) and (5): rows written ahead, relay (re)started; throughput, RSS, CPU; and the relay's CPU while idle. */
    private void drain(String uri) throws Exception {
        List<double[]> drains = new ArrayList<>();
        CpuShares drainCpu = new CpuShares();
        Map<String, Double> threadSeconds = new java.util.LinkedHashMap<>();
        Stats drain = repeat("relay drain", () -> {
            double[] d = drainRun(uri, drainCpu, threadSeconds);
            drains.add(d);
            return d[0];
        });
        Stats firstToLast = Stats.of(drains.stream().map(d -> d[3]).toList());
        row(
                "3. Relay drain: " + String.format("%,d", drainRows)
                        + " rows written while the relay was stopped; relay start to last delivery",
                drain.describe("%,.0f") + " events/s",
                pct(drain.median(), ceiling) + " of the plain client (target >= 90%)");
        row(
                "3. Relay drain, first to last delivery (without JVM and engine start)",
                firstToLast.describe("%,.0f") + " events/s",
                pct(firstToLast.median(), ceiling) + " of the plain client");
        row(
                "3. Cores used during the drain, relay start to last delivery (the harness is the consumer)",
                drainCpu.describe(),
                "");
        row(
                "5. Relay CPU per 100,000 events during the drain, by thread (incl. JVM start)",
                per100k(threadSeconds, (double) drainRows * drains.size()),
                "");
        row(
                "5. Relay peak RSS during the drain (" + RelayRun.jvmOptions() + ")",
                Stats.of(drains.stream().map(d -> d[1]).toList()).describe("%.0f") + " MB",
                "target <= 300 MB");
        row(
                "5. Relay CPU per 100,000 events during the drain (incl. JVM start and JIT)",
                Stats.of(drains.stream().map(d -> d[2]).toList()).describe("%.1f") + " s",
                "");
        row(
                "5. Relay CPU while idle (streaming, no events), per minute",
                Stats.of(drains.stream().map(d -> d[4]).toList()).describe("%.1f") + " s",
                "");
    }

    /** "JIT compilers 2.1, GC and safepoints 0.9, ... s": seconds per 100,000 of {@code events}, largest first. */
    private static String per100k(Map<String, Double> seconds, double events) {
        if (seconds.isEmpty()) {
            return "n/a (no /proc)";
        }
        return seconds.entrySet().stream()
                        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                        .map(e -> String.format("%s %.1f", e.getKey(), e.getValue() * 100_000 / events))
                        .collect(java.util.stream.Collectors.joining(", "))
                + " s";
    }

    /** (6) One Subscriber's own rate on a queue filled beforehand. */
    private void consume(TestVhost vhost) throws Exception {
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_consume");
                Broker broker = Broker.connect(BrokerConfig.of(vhost.uri()))) {
            Migrations.apply(db.dataSource());
            Stats ack = repeat("consume ack", () -> ConsumeBenchmark.rate(db, vhost, broker, CONSUME_MESSAGES, false));
            Stats inbox =
                    repeat("consume inbox", () -> ConsumeBenchmark.rate(db, vhost, broker, CONSUME_MESSAGES, true));
            row("6. Consumer: one Subscriber, prefetch 50, ack only", ack.describe("%,.0f") + " msg/s", "");
            row(
                    "6. Consumer: one Subscriber, prefetch 50, transactional inbox",
                    inbox.describe("%,.0f") + " msg/s",
                    "");
        }
    }

    private double appendRun(TestDatabase db, int perTx) throws Exception {
        double rate = AppendBenchmark.run(db, 8, perTx, 10);
        db.execute("TRUNCATE events");
        return rate;
    }

    /**
     * (7) What the retention rule costs writers: 8 threads appending while the relay streams and
     * prunes a backlog of {@value #RETENTION_BACKLOG} old rows, against the same with retention
     * off, alternating, in one run.
     */
    private void retention(String uri) throws Exception {
        List<Double> off = new ArrayList<>();
        List<Double> on = new ArrayList<>();
        List<Double> prunedPerSecond = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            off.add(retentionRun(uri, false)[0]);
            double[] pruning = retentionRun(uri, true);
            on.add(pruning[0]);
            prunedPerSecond.add(pruning[1]);
        }
        row(
                "7. PostgreSQL: outbox appends (8 threads, 1 event per transaction) while the relay streams,"
                        + " retention off / on (pruning a backlog of " + String.format("%,d", RETENTION_BACKLOG)
                        + " old rows)",
                Stats.of(off).describe("%,.0f") + " / " + Stats.of(on).describe("%,.0f") + " events/s",
                "ratio on/off "
                        + String.format(
                                "%.2f", Stats.of(on).median() / Stats.of(off).median()) + "; rows pruned meanwhile "
                        + Stats.of(prunedPerSecond).describe("%,.0f") + "/s");
    }

    private static final int RETENTION_BACKLOG = 200_000;
    private static final int RETENTION_SECONDS = 10;

    /** Writers' events/s and old rows deleted per second while they wrote. */
    private double[] retentionRun(String uri, boolean pruning) throws Exception {
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_retention")) {
            Migrations.apply(db.dataSource());
            Map<String, String> env = relayEnv(db, uri, "bench_retention_" + System.nanoTime() % 1_000_000);
            env.put("RELAY_EVENTS_RETENTION_HOURS", pruning ? "72" : "0");
            env.put("RELAY_PRUNE_INTERVAL_MS", "1000");
            Deliveries deliveries = new Deliveries();
            try (BenchQueue queue = BenchQueue.open(uri, deliveries.callback());
                    RelayRun relay = RelayRun.start(env, "bench-relay-retention")) {
                relay.awaitReady();
                db.execute("INSERT INTO events (routing_key, payload, created_at) SELECT 'bench.created', '"
                        + Figures.ORDER_PAYLOAD + "'::jsonb, now() - interval '5 days' FROM generate_series(1, "
                        + RETENTION_BACKLOG + ")");
                Deliveries.await(
                        () -> deliveries.received() >= RETENTION_BACKLOG,
                        15,
                        TimeUnit.MINUTES,
                        "the backlog to be published");
                String old = "SELECT count(*) FROM events WHERE created_at < now() - interval '1 day'";
                long before = db.queryLong(old);
                double rate = AppendBenchmark.run(db, 8, 1, RETENTION_SECONDS);
                long after = db.queryLong(old);
                relay.checkAlive();
                log(String.format(
                        "retention %s: writers %.0f events/s; %d old rows deleted while they wrote",
                        pruning ? "on" : "off", rate, before - after));
                return new double[] {rate, (before - after) / (double) RETENTION_SECONDS};
            }
        }
    }

    /** Rows written while the relay is stopped (after its first start made the slot), then a restart: events/s, peak RSS MB, CPU s per 100k. */
    private double[] drainRun(String uri, CpuShares cpu, Map<String, Double> threadSeconds) throws Exception {
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_drain")) {
            Migrations.apply(db.dataSource());
            Map<String, String> env = relayEnv(db, uri, "bench_drain_" + System.nanoTime() % 1_000_000);
            try (RelayRun first = RelayRun.start(env, "bench-relay-drain")) {
                first.awaitReady();
            }
            Outbox outbox = new Outbox();
            List<OutboxEvent> chunk = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                chunk.add(OutboxEvent.builder("bench.created")
                        .payload(Figures.ORDER_PAYLOAD)
                        .header("tenant", "acme")
                        .build());
            }
            for (int written = 0; written < drainRows; written += 1000) {
                outbox.inTransaction(db.dataSource(), c -> outbox.appendAll(c, chunk));
            }
            Deliveries deliveries = new Deliveries();
            try (BenchQueue queue = BenchQueue.open(uri, deliveries.callback());
                    RelayRun relay = RelayRun.start(env, "bench-relay-drain")) {
                long started = System.nanoTime();
                CpuShares.Snapshot before = CpuShares.Snapshot.take(relay.pid());
                while (deliveries.received() < drainRows) {
                    relay.checkAlive();
                    TimeUnit.MILLISECONDS.sleep(50);
                    if (System.nanoTime() - started > TimeUnit.MINUTES.toNanos(15)) {
                        throw new IllegalStateException("drain did not finish in 15 minutes: " + deliveries.received());
                    }
                }
                cpu.add(before, CpuShares.Snapshot.take(relay.pid()));
                relay.cpuByThread().forEach((group, seconds) -> threadSeconds.merge(group, seconds, Double::sum));
                double seconds = (deliveries.lastAt() - started) / 1e9;
                double rate = drainRows / seconds;
                double firstToLast = drainRows / ((deliveries.lastAt() - deliveries.firstAt()) / 1e9);
                double cpuPer100k = relay.cpuSeconds() * 100_000 / drainRows;
                // Idle: the stream is caught up; what does it cost to wait for the next event?
                double idleFrom = relay.cpuSeconds();
                TimeUnit.SECONDS.sleep(15);
                double idlePerMinute = (relay.cpuSeconds() - idleFrom) * 4;
                log(String.format(
                        "drain: %d rows in %.1f s from restart (%.0f events/s; %.0f/s first to last), peak RSS %d MB,"
                                + " CPU %.1f s per 100k (incl. JVM start); idle CPU %.1f s per minute",
                        drainRows, seconds, rate, firstToLast, relay.peakRssMb(), cpuPer100k, idlePerMinute));
                return new double[] {rate, relay.peakRssMb(), cpuPer100k, firstToLast, idlePerMinute};
            }
        }
    }

    private void steady(String uri, TreeSet<Integer> rates, double limit, List<LatencyPlot.Point> points)
            throws Exception {
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_steady")) {
            Migrations.apply(db.dataSource());
            Deliveries deliveries = new Deliveries();
            try (BenchQueue queue = BenchQueue.open(uri, deliveries.callback());
                    RelayRun relay = RelayRun.start(
                            relayEnv(db, uri, "bench_steady_" + System.nanoTime() % 1_000_000), "bench-relay-steady")) {
                relay.awaitReady();
                for (int rate : rates) {
                    brokerFloor(uri, deliveries, rate);
                    // Uncounted: the relay's JIT settles on this rate's batch sizes (a first counted run after a
                    // rate change, or after the broker-alone runs left the relay idle, carried C2 compilations).
                    double warmupCpu = relay.cpuSeconds();
                    SteadyLoad.Result warmup = SteadyLoad.run(db, deliveries, rate, WARMUP_SECONDS_PER_RATE);
                    log(String.format(
                            "steady %d/s warm-up (not counted): %s, relay CPU %.1f s",
                            rate, Figures.latencies(warmup.latencies()), relay.cpuSeconds() - warmupCpu));
                    List<long[]> runs = new ArrayList<>();
                    List<Double> written = new ArrayList<>();
                    List<Double> cpu = new ArrayList<>();
                    CpuShares shares = new CpuShares();
                    int lost = 0;
                    for (int r = 0; r < repeats; r++) {
                        relay.checkAlive();
                        CpuShares.Snapshot before = CpuShares.Snapshot.take(relay.pid());
                        SteadyLoad.Result result = SteadyLoad.run(db, deliveries, rate, steadySeconds);
                        CpuShares.Snapshot after = CpuShares.Snapshot.take(relay.pid());
                        shares.add(before, after);
                        double cpuUsed = after.relaySeconds() - before.relaySeconds();
                        runs.add(result.latencies());
                        Files.writeString(
                                out.resolve(String.format("timeline-relay-%d-run%d.txt", rate, r + 1)),
                                result.timeline());
                        written.add(result.writtenRate());
                        cpu.add(cpuUsed * 100_000 / Math.max(1, result.writtenRate() * steadySeconds));
                        lost += result.lost();
                        log(String.format(
                                "steady %d/s run %d: written %.0f/s, %s, lost %d, relay CPU %.1f s",
                                rate,
                                r + 1,
                                result.writtenRate(),
                                Figures.latencies(result.latencies()),
                                result.lost(),
                                cpuUsed));
                    }
                    double[] p50 = percentiles(runs, 50);
                    double[] p95 = percentiles(runs, 95);
                    double[] p99 = percentiles(runs, 99);
                    double[] max = percentiles(runs, 100);
                    points.add(new LatencyPlot.Point(
                            Stats.of(written).median(), median(p50), median(p95), median(p99), median(max)));
                    String label = rate == (int) (limit * 0.5)
                            ? " (50% of the limit)"
                            : rate == (int) (limit * 0.9) ? " (90% of the limit)" : "";
                    row(
                            String.format(
                                    "4. Relay steady state, %,d events/s offered%s: commit to consumer p50 / p95 / p99 / max",
                                    rate, label),
                            String.format("%s / %s / %s / %s ms", fmt(p50), fmt(p95), fmt(p99), fmt(max)),
                            String.format(
                                            "written %s/s; lost %d; relay CPU %s s per 100k",
                                            Stats.of(written).describe("%,.0f"),
                                            lost,
                                            Stats.of(cpu).describe("%.1f"))
                                    + target(rate, median(p50), median(p99), limit));
                    row(
                            String.format("4. Cores used at %,d events/s (the harness writes and consumes)", rate),
                            shares.describe(),
                            "");
                }
            }
        }
    }

    /** The same rate published by the plain client straight to the broker: the latency no relay can go below here. */
    private void brokerFloor(String uri, Deliveries deliveries, int rate) throws Exception {
        List<long[]> runs = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            SteadyLoad.Result result = BrokerLimit.plainClientAtRate(uri, deliveries, rate, steadySeconds);
            runs.add(result.latencies());
            Files.writeString(
                    out.resolve(String.format("timeline-broker-%d-run%d.txt", rate, r + 1)), result.timeline());
            log(String.format(
                    "broker alone %d/s run %d: sent %.0f/s, %s, lost %d",
                    rate, r + 1, result.writtenRate(), Figures.latencies(result.latencies()), result.lost()));
        }
        row(
                String.format(
                        "4. RabbitMQ alone, plain client paced at %,d msg/s: publish to consumer p50 / p95 / p99 / max",
                        rate),
                String.format(
                        "%s / %s / %s / %s ms",
                        fmt(percentiles(runs, 50)),
                        fmt(percentiles(runs, 95)),
                        fmt(percentiles(runs, 99)),
                        fmt(percentiles(runs, 100))),
                "the broker's own share of the relay's figure below (same queue, same messages, no PostgreSQL)");
    }

    private static String target(int rate, double p50, double p99, double limit) {
        if (rate == 3000) {
            return String.format("; target p50 <= 5, p99 <= 25: %s", p50 <= 5 && p99 <= 25 ? "met" : "not met");
        }
        if (rate == (int) (limit * 0.9)) {
            return String.format("; target p99 < 100: %s", p99 < 100 ? "met" : "not met");
        }
        return "";
    }

    private static double[] percentiles(List<long[]> runs, double p) {
        double[] values = new double[runs.size()];
        for (int i = 0; i < runs.size(); i++) {
            long[] sorted = runs.get(i).clone();
            Arrays.sort(sorted);
            values[i] = Figures.percentile(sorted, p);
        }
        return values;
    }

    private static double median(double[] values) {
        return Stats.of(Arrays.stream(values).boxed().toList()).median();
    }

    private static String fmt(double[] values) {
        Stats s = Stats.of(Arrays.stream(values).boxed().toList());
        return s.runs().size() > 1
                ? String.format("%.1f (%.1f-%.1f)", s.median(), s.min(), s.max())
                : String.format("%.1f", s.median());
    }

    private static Map<String, String> relayEnv(TestDatabase db, String uri, String slot) {
        return new java.util.HashMap<>(Map.of(
                "RELAY_DB_URL",
                db.url(),
                "RELAY_DB_USER",
                db.user(),
                "RELAY_DB_PASSWORD",
                db.password(),
                "RELAY_RABBITMQ_URI",
                uri,
                "RELAY_SLOT",
                slot));
    }

    private static void drained(BenchQueue queue) throws Exception {
        Deliveries.await(
                () -> {
                    try {
                        return queue.depth() == 0;
                    } catch (java.io.IOException e) {
                        return false;
                    }
                },
                5,
                TimeUnit.MINUTES,
                "the benchmark queue to drain");
    }

    @FunctionalInterface
    private interface Measurement {
        double run() throws Exception;
    }

    private Stats repeat(String name, Measurement m) throws Exception {
        List<Double> runs = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            double v = m.run();
            log(String.format("%s run %d: %,.0f", name, r + 1, v));
            runs.add(v);
        }
        return Stats.of(runs);
    }

    private void row(String what, String figure, String note) {
        table.put(what, new String[] {figure, note});
        log("| " + what + " | " + figure + " | " + note + " |");
    }

    private static String pct(double part, double whole) {
        if (Double.isNaN(whole)) {
            return "n/a (broker part not run)";
        }
        return String.format("%.0f%%", 100 * part / whole);
    }

    private void log(String line) {
        System.out.println("bench: " + line);
        raw.append(Instant.now()).append(' ').append(line).append('\n');
    }

    private void writeTable() throws Exception {
        StringBuilder md = new StringBuilder();
        md.append("Run of ")
                .append(Instant.now())
                .append(" on ")
                .append(Machine.describe())
                .append("; ")
                .append(repeats)
                .append(" repeats each, median (min to max).\n\n| Measurement | Figure | Notes |\n|---|---|---|\n");
        table.forEach((k, v) -> md.append("| ")
                .append(k)
                .append(" | ")
                .append(v[0])
                .append(" | ")
                .append(v[1])
                .append(" |\n"));
        Files.writeString(out.resolve("benchmarks.md"), md.toString());
        Files.writeString(out.resolve("raw.txt"), raw.toString());
        System.out.println();
        System.out.println(md);
        System.out.println("bench: written " + out.resolve("benchmarks.md") + ", " + out.resolve("latency.png") + ", "
                + out.resolve("raw.txt"));
    }
}
