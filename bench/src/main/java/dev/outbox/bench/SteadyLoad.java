package dev.outbox.bench;

import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.testing.TestDatabase;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writers that offer a fixed event rate for a while. Each of the writer threads owns an equal
 * share of the rate; whenever events are due it commits them in one transaction (one event
 * per transaction at low rates, a few at high rates, as a busy service would), and registers
 * each event's commit time for the latency. The first seconds are a warm-up and not counted.
 */
final class SteadyLoad {

    static final int WRITERS = 4;
    static final int WARMUP_SECONDS = 2;

    /** {@code timeline}: see {@link Deliveries.LatencyLog#timeline}. */
    record Result(int offeredRate, double writtenRate, long[] latencies, int lost, String timeline) {

        static Result of(int offeredRate, double writtenRate, Deliveries.LatencyLog log, int lost) {
            return new Result(offeredRate, writtenRate, log.toArray(), lost, log.timeline(500));
        }
    }

    private SteadyLoad() {}

    static Result run(TestDatabase db, Deliveries deliveries, int rate, int seconds) throws Exception {
        Outbox outbox = new Outbox();
        long begin = System.nanoTime();
        AtomicInteger written = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        deliveries.reset();
        for (int w = 0; w < WRITERS; w++) {
            Thread t = new Thread(
                    () -> {
                        Pace pace = new Pace(begin, rate / (double) WRITERS, seconds, WARMUP_SECONDS);
                        try (Connection c = db.connect()) {
                            c.setAutoCommit(false);
                            for (int n = pace.next(500); n > 0; n = pace.next(500)) {
                                List<OutboxEvent> events = new ArrayList<>(n);
                                for (int i = 0; i < n; i++) {
                                    events.add(OutboxEvent.builder("bench.steady")
                                            .payload(Figures.ORDER_PAYLOAD)
                                            .header("tenant", "acme")
                                            .messageId(java.util.UUID.randomUUID())
                                            .build());
                                }
                                boolean counting = pace.counting();
                                if (counting) {
                                    events.forEach(
                                            e -> deliveries.expect(e.messageId().toString()));
                                }
                                outbox.appendAll(c, events);
                                c.commit();
                                long committed = System.nanoTime();
                                if (counting) {
                                    events.forEach(e ->
                                            deliveries.committed(e.messageId().toString(), committed));
                                }
                                written.addAndGet(n);
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    },
                    "steady-writer-" + w);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("writer failed", failures.get(0));
        }
        double writtenRate = written.get() / ((System.nanoTime() - begin) / 1e9);
        try {
            Deliveries.await(() -> deliveries.missing() == 0, 60, TimeUnit.SECONDS, "the steady-state events");
        } catch (IllegalStateException stillMissing) {
            // reported as lost below
        }
        return Result.of(rate, writtenRate, deliveries.reset(), deliveries.missing());
    }
}
