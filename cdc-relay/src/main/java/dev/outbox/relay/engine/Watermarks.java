package dev.outbox.relay.engine;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Which events rows are certainly published, without I/O (docs/decisions/013-retention.md). A
 * mark taken at some moment pairs the WAL position then with the oldest transaction still
 * running then ({@code pg_snapshot_xmin}): every transaction older than that one had ended, so
 * its commit is in the WAL before the position. Once every logical slot of the database has
 * confirmed that position, the rows of those transactions are in RabbitMQ, and they may go.
 * Rows are not ordered by id or by created_at in commit order, which is why neither alone is
 * enough. Not thread-safe: {@link Retention} calls it from one thread.
 */
final class Watermarks {

    /** A moment: the WAL insert position, the oldest transaction id still running (64-bit), and when. */
    record Mark(long lsn, long oldestRunningXid, long takenAtMillis) {}

    private final Deque<Mark> pending = new ArrayDeque<>();
    private final int capacity;
    private Mark usable;

    /** @param capacity marks kept while the slots do not move on; older ones matter most, so newer ones wait */
    Watermarks(int capacity) {
        this.capacity = capacity;
    }

    /** A new moment; kept unless {@code capacity} marks already wait. */
    void add(Mark mark) {
        if (pending.size() < capacity) {
            pending.addLast(mark);
        }
    }

    /**
     * The slots have confirmed up to {@code confirmedLsn} (the least of them): the newest mark at
     * or below it becomes the one to prune by, and older ones are forgotten.
     */
    void confirmed(long confirmedLsn) {
        while (!pending.isEmpty() && pending.peekFirst().lsn() <= confirmedLsn) {
            usable = pending.pollFirst();
        }
    }

    /**
     * The transaction id below which every row is published, or -1 while no mark is confirmed.
     * Rows written by transactions with an id below it may be deleted.
     */
    long publishedBelowXid() {
        return usable == null ? -1 : usable.oldestRunningXid();
    }

    /** When the oldest mark still waiting was taken, or -1 when none waits: how long the slots have stood still. */
    long oldestWaitingMillis() {
        Mark first = pending.peekFirst();
        return first == null ? -1 : first.takenAtMillis();
    }

    /** Marks waiting for the slots to confirm them. */
    int waiting() {
        return pending.size();
    }
}
