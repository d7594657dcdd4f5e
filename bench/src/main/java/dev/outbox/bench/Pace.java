package dev.outbox.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One thread's share of a fixed rate over a run: how many items are due now, waiting until at
 * least one is. Items due before the warm-up is over are not counted. Threads that share a
 * rate share {@code begin}, so their shares add up to the rate.
 */
final class Pace {

    private final long begin;
    private final long end;
    private final long warmupEnd;
    private final double perNano;
    private long done;
    private long now;

    Pace(long begin, double ratePerSecond, int seconds, int warmupSeconds) {
        this.begin = begin;
        this.end = begin + TimeUnit.SECONDS.toNanos(seconds);
        this.warmupEnd = begin + TimeUnit.SECONDS.toNanos(warmupSeconds);
        this.perNano = ratePerSecond / TimeUnit.SECONDS.toNanos(1);
    }

    /** The items due now, at most {@code max}, after waiting for the first one; 0 once the run is over. */
    int next(int max) {
        while (true) {
            now = System.nanoTime();
            if (now >= end) {
                return 0;
            }
            long due = (long) ((now - begin) * perNano) + 1 - done;
            if (due > 0) {
                int n = (int) Math.min(due, max);
                done += n;
                return n;
            }
            LockSupport.parkNanos(Math.max(10_000, begin + (long) (done / perNano) - now));
        }
    }

    /** Whether the items {@link #next} returned last are past the warm-up. */
    boolean counting() {
        return now > warmupEnd;
    }
}
