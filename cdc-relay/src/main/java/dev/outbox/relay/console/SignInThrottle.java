package dev.outbox.relay.console;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Slows guessing: an address with {@link #MAX_FAILURES} wrong credentials within {@link #WINDOW}
 * is refused (429) until the oldest of them is that old. Refuses rather than waits, so a
 * guesser holds none of the console's few threads.
 */
final class SignInThrottle {

    static final int MAX_FAILURES = 10;
    static final Duration WINDOW = Duration.ofMinutes(5);
    private static final int MAX_ADDRESSES = 10_000;

    private final Map<String, Deque<Long>> failures = new ConcurrentHashMap<>();
    private final LongSupplier clock;

    SignInThrottle(LongSupplier clockMillis) {
        this.clock = clockMillis;
    }

    /** Seconds until {@code address} may try again, or 0 when it may now. */
    long blockedForSeconds(String address) {
        Deque<Long> times = failures.get(key(address));
        if (times == null) {
            return 0;
        }
        synchronized (times) {
            long now = clock.getAsLong();
            while (!times.isEmpty() && times.peekFirst() <= now - WINDOW.toMillis()) {
                times.pollFirst();
            }
            if (times.size() < MAX_FAILURES) {
                return 0;
            }
            return Math.max(1, (times.peekFirst() + WINDOW.toMillis() - now + 999) / 1000);
        }
    }

    void failed(String address) {
        if (failures.size() >= MAX_ADDRESSES) {
            failures.clear(); // a flood of addresses: start over rather than grow without bound
        }
        Deque<Long> times = failures.computeIfAbsent(key(address), a -> new ArrayDeque<>());
        synchronized (times) {
            times.addLast(clock.getAsLong());
            while (times.size() > MAX_FAILURES) {
                times.pollFirst();
            }
        }
    }

    private static String key(String address) {
        return address == null ? "" : address;
    }
}
