package dev.outbox.sdk.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The messages published on one channel in confirm mode and not yet confirmed, by publish
 * sequence number: the numbers RabbitMQ's confirms refer to. The one place the rules of
 * publisher confirms are kept, for the SDK's {@link ConfirmingChannel} and for the relay's
 * publishing ledger: a confirm or nack settles one message or, with {@code multiple}, every
 * message up to it; a return comes before its message's confirm and, since a channel's
 * publishes are handled in order, belongs to the earliest unconfirmed message it matches.
 *
 * <p>Thread-safe: the publishing thread adds, the connection's thread settles. What a message
 * is and what its outcome means stays with the caller ({@code T}). Plumbing shared by the SDK
 * and the relay, not an API for applications.
 */
public final class Unconfirmed<T> {

    private final ConcurrentNavigableMap<Long, T> bySequence = new ConcurrentSkipListMap<>();
    private final AtomicInteger size = new AtomicInteger();

    /** {@code message} was published as {@code sequence} ({@code Channel.getNextPublishSeqNo()} before the publish). */
    public void add(long sequence, T message) {
        if (bySequence.put(sequence, message) == null) {
            size.incrementAndGet();
        }
    }

    /**
     * The messages a confirm or nack of {@code sequence} settles, removed, in publish order:
     * that one, or with {@code multiple} every one up to it. Empty when none is left (a
     * confirm for messages already given up on).
     */
    public List<T> settle(long sequence, boolean multiple) {
        if (!multiple) {
            T message = remove(sequence);
            return message == null ? List.of() : List.of(message);
        }
        return removeAll(bySequence.headMap(sequence, true));
    }

    /**
     * The message a return belongs to: the earliest unconfirmed one that {@code matches} (the
     * caller leaves out those it already marked returned), or {@code null}.
     */
    public T returned(Predicate<T> matches) {
        for (T message : bySequence.values()) {
            if (matches.test(message)) {
                return message;
            }
        }
        return null;
    }

    /** Forgets the message published as {@code sequence}, if still unconfirmed; returns it or {@code null}. */
    public T remove(long sequence) {
        T message = bySequence.remove(sequence);
        if (message != null) {
            size.decrementAndGet();
        }
        return message;
    }

    /** Removes and returns every unconfirmed message, in publish order: the channel is gone. */
    public List<T> removeAll() {
        return removeAll(bySequence);
    }

    private List<T> removeAll(Map<Long, T> range) {
        List<T> removed = new ArrayList<>();
        for (Long sequence : range.keySet()) {
            T message = remove(sequence);
            if (message != null) {
                removed.add(message);
            }
        }
        return removed;
    }

    /** The earliest message still unconfirmed, or {@code null}. */
    public T oldest() {
        Map.Entry<Long, T> first = bySequence.firstEntry();
        return first == null ? null : first.getValue();
    }

    public boolean isEmpty() {
        return size.get() == 0;
    }

    /** How many messages are unconfirmed; constant time, unlike the map's own count. */
    public int size() {
        return size.get();
    }
}
