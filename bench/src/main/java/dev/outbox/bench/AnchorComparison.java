package dev.outbox.bench;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * (8) The relay and Debezium Server side by side, interleaved in one run, on the same
 * PostgreSQL, RabbitMQ, queue, consumer and rows: a drain of rows written while each was
 * stopped; commit-to-consumer latency and CPU per 100,000 events at fixed rates (the relay
 * freshly started, and both warmed by a minute at the rate); CPU while idle; peak RSS.
 */
final class AnchorComparison {

    /** Where the suite's rows and log lines go. */
    interface Report {
        void row(String what, String figure, String note);

        void log(String line);
    }

    /** One subject: how to start it on a database and slot. */
    private record Subject(String name, Starter starter) {}

    @FunctionalInterface
    private interface Starter {
        Measured start(TestDatabase db, String slot) throws Exception;
    }

    private static final int IDLE_SECONDS = 20;

    private final String uri;
    private final int repeats;
    private final int drainRows;
    private final int steadySeconds;
    private final int warmSeconds;
    private final List<Integer> rates;
    private final double ceiling;
    private final Report report;
    private final Subject relay;
    private final Subject anchor;
    private final Path plot;

    AnchorComparison(
            String uri,
            int repeats,
            int drainRows,
            int steadySeconds,
            int warmSeconds,
            List<Integer> rates,
            double ceiling,
            Report report,
            Path plot,
            BiFunction<TestDatabase, String, Map<String, String>> relayEnv) {
        this.plot = plot;
        this.uri = uri;
        this.repeats = repeats;
        this.drainRows = drainRows;
        this.steadySeconds = steadySeconds;
        this.warmSeconds = warmSeconds;
        this.rates = rates;
        this.ceiling = ceiling;
        this.report = report;
        this.relay = new Subject("relay", (db, slot) -> RelayRun.start(relayEnv.apply(db, slot), "bench-" + slot));
        this.anchor = new Subject(
                "Debezium Server", (db, slot) -> AnchorRun.start(db, uri, BenchQueue.EXCHANGE, slot, "anchor-" + slot));
    }

    /** A drain's figures: events/s from start, events/s first to last, peak RSS MB, CPU s per 100k, idle CPU % of a core. */
    private record Drain(double fromStart, double firstToLast, double rssMb, double cpuPer100k, double idlePct) {}

    /** A steady run's figures: latencies (ns) and CPU seconds per 100k events. */
    private record Steady(long[] latencies, double cpuPer100k, int lost, CpuShares cores) {}

    void run() throws Exception {
        List<Drain> relayDrains = new ArrayList<>();
        List<Drain> anchorDrains = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            relayDrains.add(drain(relay));
            anchorDrains.add(drain(anchor));
        }
        Stats relayFromStart =
                Stats.of(relayDrains.stream().map(Drain::fromStart).toList());
        Stats anchorFromStart =
                Stats.of(anchorDrains.stream().map(Drain::fromStart).toList());
        report.row(
                "8. Side by side: drain of " + String.format("%,d", drainRows)
                        + " rows, start to last delivery (relay / Debezium Server)",
                relayFromStart.describe("%,.0f") + " / " + anchorFromStart.describe("%,.0f") + " events/s",
                ratio(relayFromStart.median(), anchorFromStart.median()) + " (target >= 1.3x); relay "
                        + (Double.isNaN(ceiling) ? "n/a" : String.format("%.2fx", relayFromStart.median() / ceiling))
                        + " of the plain client (target >= 0.9x)");
        Stats relayFirst = Stats.of(relayDrains.stream().map(Drain::firstToLast).toList());
        Stats anchorFirst =
                Stats.of(anchorDrains.stream().map(Drain::firstToLast).toList());
        report.row(
                "8. Side by side: drain, first to last delivery (relay / Debezium Server)",
                relayFirst.describe("%,.0f") + " / " + anchorFirst.describe("%,.0f") + " events/s",
                ratio(relayFirst.median(), anchorFirst.median()));
        compareLowerIsBetter(
                "8. Side by side: peak RSS during the drain (relay / Debezium Server, JVM defaults of "
                        + AnchorRun.java() + ")",
                relayDrains.stream().map(Drain::rssMb).toList(),
                anchorDrains.stream().map(Drain::rssMb).toList(),
                "%.0f",
                " MB",
                "target <= 0.2x");
        compareLowerIsBetter(
                "8. Side by side: CPU per 100,000 events during the drain, incl. JVM start",
                relayDrains.stream().map(Drain::cpuPer100k).toList(),
                anchorDrains.stream().map(Drain::cpuPer100k).toList(),
                "%.1f",
                " s",
                "");
        compareLowerIsBetter(
                "8. Side by side: CPU while idle (streaming, no events), % of a core",
                relayDrains.stream().map(Drain::idlePct).toList(),
                anchorDrains.stream().map(Drain::idlePct).toList(),
                "%.2f",
                " %",
                "target: relay <= 1%");
        List<SideBySidePlot.Point> points = new ArrayList<>();
        for (int rate : rates) {
            points.add(steady(rate));
        }
        if (!points.isEmpty()) {
            SideBySidePlot.write(
                    plot,
                    "cdc-relay and Debezium Server 3.6.1 side by side, both warmed ("
                            + Instant.now().toString().substring(0, 10) + ", " + Machine.cores() + " cores, "
                            + BenchQueue.queueType() + " queue)",
                    points);
            report.log("side by side: plot written to " + plot);
        }
    }

    private void compareLowerIsBetter(
            String what, List<Double> ours, List<Double> theirs, String format, String unit, String target) {
        Stats a = Stats.of(ours);
        Stats b = Stats.of(theirs);
        report.row(
                what,
                a.describe(format) + " / " + b.describe(format) + unit,
                ratio(a.median(), b.median()) + (target.isEmpty() ? "" : " (" + target + ")"));
    }

    private static String ratio(double ours, double theirs) {
        return String.format("%.2fx", ours / theirs);
    }

    /** Rows written while the subject was stopped (after a first start made its slot and stored a position), then a restart. */
    private Drain drain(Subject subject) throws Exception {
        String slot = slot("drain");
        // Closing the database drops its slot too.
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_side_drain")) {
            Migrations.apply(db.dataSource());
            Deliveries primed = new Deliveries();
            try (BenchQueue queue = BenchQueue.open(uri, primed.callback())) {
                queue.purge();
                try (Measured first = subject.starter().start(db, slot)) {
                    first.awaitReadiness();
                    write(db, 1); // a stored position to resume from, for both alike
                    Deliveries.await(
                            () -> primed.received() >= 1, 60, TimeUnit.SECONDS, subject.name() + " first event");
                    TimeUnit.MILLISECONDS.sleep(500); // its position flushed (both flush every 100 ms)
                }
            }
            for (int written = 0; written < drainRows; written += 1000) {
                write(db, Math.min(1000, drainRows - written));
            }
            Deliveries deliveries = new Deliveries();
            try (BenchQueue queue = BenchQueue.open(uri, deliveries.callback());
                    Measured running = subject.starter().start(db, slot)) {
                long started = System.nanoTime();
                while (deliveries.received() < drainRows) {
                    running.checkAlive();
                    TimeUnit.MILLISECONDS.sleep(50);
                    if (System.nanoTime() - started > TimeUnit.MINUTES.toNanos(15)) {
                        throw new IllegalStateException(subject.name() + " drain did not finish in 15 minutes: "
                                + deliveries.received() + " of " + drainRows);
                    }
                }
                double seconds = (deliveries.lastAt() - started) / 1e9;
                double firstToLast = drainRows / ((deliveries.lastAt() - deliveries.firstAt()) / 1e9);
                double cpuPer100k = running.cpuSeconds() * 100_000 / drainRows;
                double idleFrom = running.cpuSeconds();
                long idleStart = System.nanoTime();
                TimeUnit.SECONDS.sleep(IDLE_SECONDS);
                double idlePct = 100 * (running.cpuSeconds() - idleFrom) / ((System.nanoTime() - idleStart) / 1e9);
                Drain d = new Drain(drainRows / seconds, firstToLast, running.peakRssMb(), cpuPer100k, idlePct);
                report.log(String.format(
                        "side drain %s: %,.0f events/s from start, %,.0f first to last, peak RSS %.0f MB, CPU %.1f s"
                                + " per 100k, idle %.2f%% of a core",
                        subject.name(), d.fromStart(), d.firstToLast(), d.rssMb(), d.cpuPer100k(), d.idlePct()));
                if (deliveries.received() > drainRows) {
                    report.log(subject.name() + " delivered " + (deliveries.received() - drainRows) + " duplicates");
                }
                return d;
            }
        }
    }

    /** At {@code rate}: the relay freshly started, the relay warmed, Debezium Server warmed. */
    private SideBySidePlot.Point steady(int rate) throws Exception {
        Steady[] fresh = new Steady[1];
        Steady relayWarm = steadyRun(relay, rate, fresh);
        Steady anchorWarm = steadyRun(anchor, rate, null);
        report.row(
                "8. Side by side at " + String.format("%,d", rate) + " events/s: commit to consumer, relay fresh",
                Figures.latencies(fresh[0].latencies()),
                fresh[0].lost() == 0 ? "" : fresh[0].lost() + " not seen");
        report.row(
                "8. Side by side at " + String.format("%,d", rate) + " events/s: commit to consumer, relay warmed",
                Figures.latencies(relayWarm.latencies()),
                "p99 " + ratio(p(relayWarm, 99), p(anchorWarm, 99)) + " of Debezium Server's (target <= 0.5x)");
        report.row(
                "8. Side by side at " + String.format("%,d", rate)
                        + " events/s: commit to consumer, Debezium Server warmed",
                Figures.latencies(anchorWarm.latencies()),
                anchorWarm.lost() == 0 ? "" : anchorWarm.lost() + " not seen");
        report.row(
                "8. Side by side at " + String.format("%,d", rate)
                        + " events/s: CPU per 100,000 events, warmed (relay / Debezium Server)",
                String.format("%.1f / %.1f s", relayWarm.cpuPer100k(), anchorWarm.cpuPer100k()),
                ratio(relayWarm.cpuPer100k(), anchorWarm.cpuPer100k()) + (rate <= 1000 ? " (target <= 0.3x)" : ""));
        report.row(
                "8. Side by side at " + String.format("%,d", rate)
                        + " events/s: cores used, warmed (the relay's run / Debezium Server's run)",
                relayWarm.cores().describe() + " / " + anchorWarm.cores().describe("Debezium Server"),
                "");
        return new SideBySidePlot.Point(
                rate,
                p(relayWarm, 50),
                p(relayWarm, 99),
                p(anchorWarm, 50),
                p(anchorWarm, 99),
                relayWarm.cpuPer100k(),
                anchorWarm.cpuPer100k());
    }

    private static double p(Steady s, double percentile) {
        long[] sorted = s.latencies().clone();
        java.util.Arrays.sort(sorted);
        return Figures.percentile(sorted, percentile);
    }

    /** Starts {@code subject}, measures a fresh run into {@code fresh} when asked, warms it, measures it warmed. */
    private Steady steadyRun(Subject subject, int rate, Steady[] fresh) throws Exception {
        String slot = slot("steady");
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_side_steady")) {
            Migrations.apply(db.dataSource());
            Deliveries deliveries = new Deliveries();
            try (BenchQueue queue = BenchQueue.open(uri, deliveries.callback());
                    Measured running = subject.starter().start(db, slot)) {
                queue.purge();
                running.awaitReadiness();
                if (fresh != null) {
                    SteadyLoad.Result r = SteadyLoad.run(db, deliveries, rate, steadySeconds);
                    fresh[0] = new Steady(r.latencies(), Double.NaN, r.lost(), new CpuShares());
                }
                SteadyLoad.run(db, deliveries, rate, warmSeconds);
                double cpuBefore = running.cpuSeconds();
                Map<String, Double> threadsBefore = running.cpuByThread();
                int receivedBefore = deliveries.received();
                CpuShares cores = new CpuShares();
                CpuShares.Snapshot coresBefore = CpuShares.Snapshot.take(running.pid());
                SteadyLoad.Result r = SteadyLoad.run(db, deliveries, rate, steadySeconds);
                cores.add(coresBefore, CpuShares.Snapshot.take(running.pid()));
                double cpu = running.cpuSeconds() - cpuBefore;
                int events = deliveries.received() - receivedBefore;
                running.checkAlive();
                Steady s = new Steady(r.latencies(), cpu * 100_000 / Math.max(1, events), r.lost(), cores);
                StringBuilder byThread = new StringBuilder();
                running.cpuByThread()
                        .forEach((group, seconds) -> byThread.append(String.format(
                                "%s %.1f, ",
                                group,
                                (seconds - threadsBefore.getOrDefault(group, 0.0)) * 100_000 / Math.max(1, events))));
                report.log(String.format(
                        "side steady %s at %d/s: %s, CPU %.1f s for %d events (%.1f s per 100k; by thread: %s)",
                        subject.name(), rate, Figures.latencies(r.latencies()), cpu, events, s.cpuPer100k(), byThread));
                return s;
            }
        }
    }

    private static void write(TestDatabase db, int n) {
        Outbox outbox = new Outbox();
        List<OutboxEvent> chunk = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            chunk.add(OutboxEvent.builder("bench.created")
                    .payload(Figures.ORDER_PAYLOAD)
                    .header("tenant", "acme")
                    .build());
        }
        outbox.inTransaction(db.dataSource(), c -> outbox.appendAll(c, chunk));
    }

    private static String slot(String what) {
        return "bench_side_" + what + "_" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    }
}
