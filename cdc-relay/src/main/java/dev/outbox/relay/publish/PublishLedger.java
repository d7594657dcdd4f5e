package dev.outbox.relay.publish;

import dev.outbox.protocol.OutgoingMessage;
import dev.outbox.sdk.internal.Unconfirmed;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The rules of publishing in order with confirms, without any I/O: which message goes out
 * next, what a confirm, a nack, a return or a lost channel does to it, and how far the stream
 * is confirmed. {@link ConfirmingPublisher} feeds it what the channel says; unit tests feed it
 * scripts. Not thread-safe: the publisher calls it under its own lock.
 *
 * <p>Every message gets a <em>position</em>, its place in commit order. The rules:
 * <ul>
 * <li>Messages go out in position order. A message to be published again (its channel was
 *     lost, its confirm timed out, RabbitMQ nacked it) keeps its position, so it goes out
 *     before every later message that is waiting.</li>
 * <li>Of one routing key, no message goes out while an earlier one of the same key is waiting
 *     (parked after a nack, or not yet published again): later messages of that key are held
 *     back, those of other keys flow. What was already out when a nack came is not called back.</li>
 * <li>Confirms count only on the channel they were sent on: a late confirm of a replaced
 *     channel is ignored, its messages are published again.</li>
 * <li>{@link #confirmedThrough()} is the highest position at and below which every message is
 *     confirmed: a stored offset never passes a message RabbitMQ has not taken.</li>
 * </ul>
 */
final class PublishLedger {

    /** What a message is published as. */
    enum Kind {
        /** The event, to its exchange. */
        EVENT,
        /** The event had no route: a copy to {@code unrouted}. */
        UNROUTED,
        /** The event cannot be published: a copy to {@code DLX} with reason {@code relay_error}. */
        RELAY_ERROR
    }

    enum State {
        WAITING,
        SENT,
        DONE
    }

    /** One message of the stream, from its first publish until it is confirmed. */
    static final class Entry {
        final long position;
        final OutgoingMessage message;
        final long commitMillis;
        Kind kind = Kind.EVENT;
        String error;
        State state = State.WAITING;
        long channel = -1;
        long sequence;
        long sentAtNanos;
        long dueAtMillis;
        int nacks;
        boolean returned;
        /** Its relay_error copy was refused too: the next copy carries no body and none of the event's headers. */
        boolean minimal;

        Entry(long position, OutgoingMessage message, long commitMillis) {
            this.position = position;
            this.message = message;
            this.commitMillis = commitMillis;
        }

        /** Nacked, and waiting for its backoff: it holds back later messages of its routing key. */
        boolean isParked() {
            return state == State.WAITING && nacks > 0;
        }

        @Override
        public String toString() {
            return "#" + position + " " + message.routingKey() + " " + kind + " " + state;
        }
    }

    /**
     * What one confirm did, for metrics and logs: confirmed, nacked (parked), returned events
     * (now copies for unrouted), returned copies (unrouted or DLX had no queue: retried).
     */
    record Settled(List<Entry> confirmed, List<Entry> nacked, List<Entry> unrouted, List<Entry> returnedCopies) {
        static final Settled NONE = new Settled(List.of(), List.of(), List.of(), List.of());
    }

    /**
     * Every message not yet confirmed, by position. Confirmed ones leave at once, also those
     * behind a parked message: only positions count for {@link #confirmedThrough()}, so a
     * message parked for hours does not keep every later event (and its body) in memory.
     */
    private final NavigableMap<Long, Entry> unfinished = new TreeMap<>();
    /** Messages to publish (new, again, parked), by position. */
    private final NavigableMap<Long, Entry> waiting = new TreeMap<>();
    /** Messages published on the current channel and not yet confirmed, by sequence number. */
    private final Unconfirmed<Entry> outstanding = new Unconfirmed<>();

    private long channel;
    private long nextPosition;
    private long confirmedThrough = -1;
    private int parked;
    /** Body bytes of the messages in {@link #outstanding}. */
    private long outstandingBytes;

    /** Appends a message of the stream; it gets the next position. */
    Entry add(OutgoingMessage message, long commitMillis) {
        Entry e = new Entry(nextPosition++, message, commitMillis);
        unfinished.put(e.position, e);
        waiting.put(e.position, e);
        return e;
    }

    /** The position of the last message added, or -1. */
    long lastPosition() {
        return nextPosition - 1;
    }

    /** The highest position at and below which every message is confirmed. */
    long confirmedThrough() {
        return confirmedThrough;
    }

    /** The channel messages are sent on now; {@link #channelLost} moves on to a new one. */
    long channel() {
        return channel;
    }

    /**
     * The messages to publish now, in order, at most {@code room}: waiting ones whose backoff is
     * over, skipping every routing key that has an earlier message still waiting.
     */
    List<Entry> sendable(long nowMillis, int room) {
        return sendable(nowMillis, room, Long.MAX_VALUE);
    }

    /**
     * As {@link #sendable(long, int)}, also at most {@code byteRoom} bytes of bodies; when
     * nothing is outstanding, the first message goes whatever its size, so a large one is never
     * stuck.
     */
    List<Entry> sendable(long nowMillis, int room, long byteRoom) {
        List<Entry> out = new ArrayList<>(Math.min(room, waiting.size()));
        Set<String> heldBack = null;
        long bytes = 0;
        for (Entry e : waiting.values()) {
            if (out.size() >= room) {
                break;
            }
            long size = e.message.body().length;
            if (bytes + size > byteRoom && !(out.isEmpty() && outstanding.isEmpty())) {
                break;
            }
            String key = e.message.routingKey();
            if (heldBack != null && heldBack.contains(key)) {
                continue;
            }
            if (e.dueAtMillis > nowMillis) {
                if (heldBack == null) {
                    heldBack = new HashSet<>();
                }
                heldBack.add(key);
                continue;
            }
            out.add(e);
            bytes += size;
        }
        return out;
    }

    /** {@code e} goes out now on the current channel as {@code sequence}. */
    void sent(Entry e, long sequence, long nowNanos) {
        waiting.remove(e.position);
        if (e.isParked()) {
            parked--;
        }
        e.state = State.SENT;
        e.channel = channel;
        e.sequence = sequence;
        e.sentAtNanos = nowNanos;
        e.returned = false;
        outstanding.add(sequence, e);
        outstandingBytes += e.message.body().length;
    }

    /** RabbitMQ returned the message {@code messageId} sent on {@code onChannel}: it had no route. */
    void returned(long onChannel, String messageId) {
        if (onChannel != channel || messageId == null) {
            return;
        }
        Entry e = outstanding.returned(o -> !o.returned && messageId.equals(o.message.messageId()));
        if (e != null) {
            e.returned = true;
        }
    }

    /**
     * A confirm ({@code ack}) or nack for {@code sequence} (and all before it when {@code multiple})
     * on {@code onChannel}. A confirm of a returned event turns it into its copy for
     * {@code unrouted}; a nack parks the message for {@code backoff} of its number of nacks.
     */
    Settled confirm(
            long onChannel,
            long sequence,
            boolean multiple,
            boolean ack,
            long nowMillis,
            java.util.function.IntToLongFunction backoff) {
        if (onChannel != channel) {
            return Settled.NONE;
        }
        List<Entry> done = outstanding.settle(sequence, multiple);
        if (done.isEmpty()) {
            return Settled.NONE;
        }
        List<Entry> confirmed = new ArrayList<>(done.size());
        List<Entry> nacked = List.of();
        List<Entry> unrouted = List.of();
        List<Entry> returnedCopies = List.of();
        for (Entry e : done) {
            outstandingBytes -= e.message.body().length;
            if (!ack) {
                toWaiting(e, nowMillis + backoff.applyAsLong(e.nacks++));
                nacked = append(nacked, e);
            } else if (e.returned && e.kind == Kind.EVENT) {
                e.kind = Kind.UNROUTED;
                toWaiting(e, 0);
                unrouted = append(unrouted, e);
            } else if (e.returned) {
                // unrouted or DLX itself had no queue (deleted behind our back): never done while nothing holds it.
                toWaiting(e, nowMillis + backoff.applyAsLong(0));
                returnedCopies = append(returnedCopies, e);
            } else {
                e.state = State.DONE;
                unfinished.remove(e.position);
                confirmed.add(e);
            }
        }
        advance();
        return new Settled(confirmed, nacked, unrouted, returnedCopies);
    }

    private static List<Entry> append(List<Entry> list, Entry e) {
        List<Entry> out = list.isEmpty() ? new ArrayList<>() : list;
        out.add(e);
        return out;
    }

    /**
     * The channel {@code lost} is gone (closed, connection lost, confirms timed out): its
     * unconfirmed messages are published again, in position order, before anything later.
     * Returns them; none when {@code lost} was already replaced.
     */
    List<Entry> channelLost(long lost) {
        if (lost != channel) {
            return List.of();
        }
        channel++;
        List<Entry> again = outstanding.removeAll();
        for (Entry e : again) {
            toWaiting(e, 0);
        }
        outstandingBytes = 0;
        return again;
    }

    /** The oldest message sent and not yet confirmed, or {@code null}. */
    Entry oldestOutstanding() {
        return outstanding.oldest();
    }

    /** {@code e} cannot be published as it is: its copy for {@code DLX} takes its place (and position). */
    void relayError(Entry e, String error) {
        e.kind = Kind.RELAY_ERROR;
        e.error = error;
        if (e.state == State.SENT) {
            outstanding.remove(e.sequence);
            outstandingBytes -= e.message.body().length;
            toWaiting(e, 0);
        }
    }

    private void toWaiting(Entry e, long dueAtMillis) {
        if (e.nacks > 0) {
            parked++;
        }
        e.state = State.WAITING;
        e.dueAtMillis = dueAtMillis;
        waiting.put(e.position, e);
    }

    private void advance() {
        confirmedThrough = unfinished.isEmpty() ? nextPosition - 1 : unfinished.firstKey() - 1;
    }

    /** Messages the ledger still holds: every one not yet confirmed. */
    int unfinished() {
        return unfinished.size();
    }

    /** Body bytes of the messages sent and not yet confirmed. */
    long outstandingBytes() {
        return outstandingBytes;
    }

    /** Messages sent and not yet confirmed. */
    int outstanding() {
        return outstanding.size();
    }

    /** Messages nacked and waiting for their backoff. */
    int parked() {
        return parked;
    }

    /** Messages waiting to go out: parked, held back behind a parked one, or not yet sent. */
    int waiting() {
        return waiting.size();
    }

    /** The first time a waiting message is due, or {@code Long.MAX_VALUE} when none waits. */
    long nextDueMillis() {
        long next = Long.MAX_VALUE;
        for (Entry e : waiting.values()) {
            next = Math.min(next, e.dueAtMillis);
        }
        return next;
    }

    /** Whether every message up to {@code position} is confirmed. */
    boolean isConfirmedThrough(long position) {
        return confirmedThrough >= position;
    }

    /** Where parked messages were going, for the log: e.g. {@code {order=12}} (exchange and count). */
    String describeParked() {
        Map<String, Integer> byExchange = new TreeMap<>();
        for (Entry e : waiting.values()) {
            if (e.isParked()) {
                byExchange.merge(e.message.exchange(), 1, Integer::sum);
            }
        }
        return byExchange.toString();
    }

    /**
     * Forgets everything: the stream that produced it ended, and what was not confirmed comes
     * again from the WAL. Positions go on from where they were.
     */
    void clear() {
        unfinished.clear();
        waiting.clear();
        outstanding.removeAll();
        outstandingBytes = 0;
        parked = 0;
        channel++;
        confirmedThrough = nextPosition - 1;
    }
}
