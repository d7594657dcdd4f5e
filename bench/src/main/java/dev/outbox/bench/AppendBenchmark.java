package dev.outbox.bench;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Outbox appends per second through the {@code db} writer: 8 threads, one event per
 * transaction, then 100 events per transaction (one appendAll statement). Args: seconds per run [10], runs [3].
 */
public final class AppendBenchmark {

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_append")) {
            Migrations.apply(db.dataSource());
            for (int batch : new int[] {1, 100}) {
                List<Double> rates = new ArrayList<>();
                for (int r = 0; r < runs; r++) {
                    rates.add(run(db, 8, batch, seconds));
                    db.execute("TRUNCATE events");
                }
                rates.sort(Double::compare);
                Figures.report(
                        "append",
                        String.format(
                                "8 threads, %d event(s) per transaction: median %.0f events/s" + " (runs %s)",
                                batch,
                                rates.get(rates.size() / 2),
                                rates.stream()
                                        .map(x -> String.format("%.0f", x))
                                        .toList()));
            }
        }
        System.exit(0);
    }

    static double run(TestDatabase db, int threads, int batch, int seconds) throws Exception {
        Outbox outbox = new Outbox();
        List<OutboxEvent> events = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            events.add(OutboxEvent.builder("order.created")
                    .payload(Figures.ORDER_PAYLOAD)
                    .header("tenant", "acme")
                    .build());
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long start = System.nanoTime();
        List<Future<Long>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            futures.add(pool.submit(() -> {
                long written = 0;
                try (Connection c = db.connect()) {
                    c.setAutoCommit(false);
                    while (System.nanoTime() < deadline) {
                        if (batch == 1) {
                            outbox.append(c, events.get(0));
                        } else {
                            outbox.appendAll(c, events);
                        }
                        c.commit();
                        written += batch;
                    }
                }
                return written;
            }));
        }
        long total = 0;
        for (Future<Long> f : futures) {
            total += f.get();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        return total / elapsed;
    }
}
