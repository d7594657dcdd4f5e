package dev.outbox.relay;

import dev.outbox.db.AppendedEvent;
import dev.outbox.db.Outbox;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * Writes events at a steady rate on its own thread and records the message id of every
 * committed one: the "what committed" side of a lost/duplicate count.
 */
final class EventWriter implements AutoCloseable {

    private final List<String> committed = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile Throwable failure;

    EventWriter(DataSource dataSource, String routingKey, int total, int perSecond) {
        Outbox outbox = new Outbox();
        thread = new Thread(
                () -> {
                    long intervalNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
                    long next = System.nanoTime();
                    try (Connection c = dataSource.getConnection()) {
                        for (int i = 0; i < total && running.get(); i++) {
                            AppendedEvent e = outbox.append(c, routingKey, "{\"n\":" + i + "}");
                            committed.add(e.messageId().toString());
                            next += intervalNanos;
                            long wait = next - System.nanoTime();
                            if (wait > 0) {
                                TimeUnit.NANOSECONDS.sleep(wait);
                            }
                        }
                    } catch (Throwable t) {
                        failure = t;
                    }
                },
                "event-writer");
        thread.start();
    }

    List<String> committed() {
        return List.copyOf(committed);
    }

    boolean done() {
        return !thread.isAlive();
    }

    void awaitDone() throws InterruptedException {
        thread.join();
        if (failure != null) {
            throw new AssertionError("writer failed", failure);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(30_000);
    }
}
