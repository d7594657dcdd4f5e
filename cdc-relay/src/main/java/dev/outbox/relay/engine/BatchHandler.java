package dev.outbox.relay.engine;

import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.ConfirmingPublisher;
import dev.outbox.sdk.wire.OutgoingMessage;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's batch consumer. Each batch is sent to RabbitMQ at once; a batch's position is
 * marked processed only when RabbitMQ confirmed every message in it and in every batch
 * before it, so the offset Debezium stores (and the LSN it acknowledges to PostgreSQL) never
 * passes an unconfirmed event.
 *
 * <ul>
 * <li>Pipelined one batch deep: batch N is sent before the confirms of batch N-1 are
 *     awaited, so the broker's confirm latency overlaps with reading the next batch. The last
 *     batch of a burst is finished by the next batch, the next heartbeat, or
 *     {@link #finishInFlight()} on a clean stop; a crash before that only means it is
 *     published again.</li>
 * <li>Messages RabbitMQ nacks (most often a queue full with {@code overflow=reject-publish})
 *     are parked and published again with backoff while later batches keep flowing to other
 *     queues; positions wait behind them. Past {@code RELAY_MAX_PARKED} parked messages the
 *     stream waits for them instead.</li>
 * </ul>
 */
final class BatchHandler implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

    private static final Logger LOG = LoggerFactory.getLogger(BatchHandler.class);

    private final EventRecords records;
    private final ConfirmingPublisher publisher;
    private final RelayMetrics metrics;
    private final int maxParked;
    /** Debezium's committer is not thread-safe; the engine thread and a stopping thread share it under this lock. */
    private final ReentrantLock lock = new ReentrantLock();

    private Sent inFlight;
    /** Finished batches whose position is not marked yet, oldest first: each waits for its parked messages and every older batch. */
    private final Deque<Held> held = new ArrayDeque<>();
    private final List<ParkedGroup> parkingLot = new ArrayList<>();
    private int parkedCount;
    private long parkedSince;
    private DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer;
    private boolean stopping;

    /** A batch sent and not yet confirmed: its last record (its position), the publish in flight, when its events were committed. */
    private record Sent(RecordChangeEvent<SourceRecord> lastRecord, ConfirmingPublisher.InFlight publish,
                        long[] commitTimes, long sentAtNanos, Long lastEventId) {
    }

    /** A finished batch's position, marked once none of its messages is parked any more. */
    private static final class Held {
        final RecordChangeEvent<SourceRecord> lastRecord;
        int parked;

        Held(RecordChangeEvent<SourceRecord> lastRecord, int parked) {
            this.lastRecord = lastRecord;
            this.parked = parked;
        }
    }

    /** Nacked messages of one batch, with their backoff. */
    private static final class ParkedGroup {
        final Held owner;
        ConfirmingPublisher.Parked messages;
        int attempt;
        long dueAtMillis;

        ParkedGroup(Held owner, ConfirmingPublisher.Parked messages) {
            this.owner = owner;
            this.messages = messages;
            this.dueAtMillis = System.currentTimeMillis() + ConfirmingPublisher.backoffMillis(0);
        }
    }

    BatchHandler(EventRecords records, ConfirmingPublisher publisher, RelayMetrics metrics, int maxParked) {
        this.records = records;
        this.publisher = publisher;
        this.metrics = metrics;
        this.maxParked = maxParked;
        metrics.parked().set(0);  // a new stream starts with nothing parked
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> batch,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        lock.lockInterruptibly();
        try {
            this.committer = committer;
            Sent current = send(batch);
            if (inFlight != null) {
                complete(inFlight);
                inFlight = null;
            }
            if (stopping) {
                complete(current);
            } else {
                inFlight = current;
            }
            retryParked(false);
            while (parkedCount > maxParked) {
                // Past the limit the stream waits: parked messages are retried until enough are confirmed.
                retryParked(true);
            }
            markResolved();
            committer.markBatchFinished();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for the batch in flight to be confirmed and stores the position reached; every
     * batch after this is confirmed before {@link #handleBatch} returns. For a clean stop,
     * before the engine is closed, so that a restart publishes nothing twice. Parked
     * messages are not waited for: they and what follows them are published again after the restart.
     */
    void finishInFlight() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            stopping = true;
            if (inFlight != null) {
                Sent last = inFlight;
                inFlight = null;
                complete(last);
                markResolved();
                committer.markBatchFinished();
            }
            if (parkedCount > 0) {
                LOG.warn("Stopping with {} nacked messages not yet published ({}); they and the events after them are"
                        + " published again after the restart", parkedCount, describeParked());
            }
        } finally {
            lock.unlock();
        }
    }

    private Sent send(List<RecordChangeEvent<SourceRecord>> batch) throws InterruptedException {
        List<OutgoingMessage> messages = new ArrayList<>(batch.size());
        long[] commitTimes = new long[batch.size()];
        for (RecordChangeEvent<SourceRecord> event : batch) {
            SourceRecord record = event.record();
            OutgoingMessage message = records.toMessage(record);
            if (message != null) {
                commitTimes[messages.size()] = EventRecords.commitTimeMillis(record);
                messages.add(message);
                if (LOG.isTraceEnabled()) {
                    LOG.trace("Event {} payload {}", message.eventId(), new String(message.body(), StandardCharsets.UTF_8));
                }
            }
        }
        long sentAt = System.nanoTime();
        ConfirmingPublisher.InFlight publish = publisher.send(messages);
        Long lastEventId = messages.isEmpty() ? null : messages.get(messages.size() - 1).eventId();
        return new Sent(batch.get(batch.size() - 1), publish, commitTimes, sentAt, lastEventId);
    }

    /** Waits for the batch's confirms; what RabbitMQ nacked is parked, the rest is done. */
    private void complete(Sent sent) throws InterruptedException {
        ConfirmingPublisher.Parked parked = maxParked > 0
                ? publisher.finishOrPark(sent.publish())
                : finishAll(sent.publish());
        Held position = new Held(sent.lastRecord(), parked.size());
        held.addLast(position);
        if (!parked.isEmpty()) {
            park(position, parked);
        }
        int count = sent.publish().size();
        if (count > 0) {
            long now = System.currentTimeMillis();
            for (int i = 0; i < count; i++) {
                metrics.confirmedAfterCommit(sent.commitTimes()[i], now);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - sent.sentAtNanos());
            metrics.batch(count, took);
            LOG.debug("Published {} events in {} ms, {} of them parked (last event id {})", count, took.toMillis(),
                    parked.size(), sent.lastEventId());
        }
    }

    private ConfirmingPublisher.Parked finishAll(ConfirmingPublisher.InFlight publish) throws InterruptedException {
        publisher.finish(publish);
        return ConfirmingPublisher.Parked.NONE;
    }

    private void park(Held owner, ConfirmingPublisher.Parked parked) {
        if (parkedCount == 0) {
            parkedSince = System.currentTimeMillis();
            LOG.warn("RabbitMQ nacked {} messages for {} (a queue may be full: x-max-length with overflow=reject-publish);"
                            + " they are published again with backoff while the stream goes on, and stored positions wait for them",
                    parked.size(), parked.describe());
        }
        parkingLot.add(new ParkedGroup(owner, parked));
        parkedCount += parked.size();
        metrics.parked().set(parkedCount);
    }

    /** Publishes again the parked groups whose backoff is over (with {@code wait}, waits for the first one due). */
    private void retryParked(boolean wait) throws InterruptedException {
        if (parkingLot.isEmpty()) {
            return;
        }
        if (wait) {
            long firstDue = parkingLot.stream().mapToLong(g -> g.dueAtMillis).min().orElse(0);
            long delay = firstDue - System.currentTimeMillis();
            if (delay > 0) {
                LOG.debug("{} parked messages, more than RELAY_MAX_PARKED={}: the stream waits {} ms for them",
                        parkedCount, maxParked, delay);
                publisher.pause(delay);
            }
        }
        long now = System.currentTimeMillis();
        for (Iterator<ParkedGroup> it = parkingLot.iterator(); it.hasNext(); ) {
            ParkedGroup group = it.next();
            if (group.dueAtMillis > now) {
                continue;
            }
            ConfirmingPublisher.Parked still = publisher.finishOrPark(publisher.sendParked(group.messages));
            int confirmed = group.messages.size() - still.size();
            metrics.republished(group.messages.size());
            group.owner.parked -= confirmed;
            parkedCount -= confirmed;
            if (still.isEmpty()) {
                it.remove();
            } else {
                group.messages = still;
                group.attempt++;
                group.dueAtMillis = System.currentTimeMillis() + ConfirmingPublisher.backoffMillis(group.attempt);
            }
        }
        metrics.parked().set(parkedCount);
        if (parkedCount == 0) {
            LOG.info("All parked messages are confirmed, {} ms after the first nack", System.currentTimeMillis() - parkedSince);
        }
    }

    private String describeParked() {
        List<String> parts = new ArrayList<>();
        for (ParkedGroup g : parkingLot) {
            parts.add(g.messages.describe());
        }
        return String.join(", ", parts);
    }

    /** Marks the positions of the oldest finished batches that no longer wait for anything. */
    private void markResolved() throws InterruptedException {
        while (!held.isEmpty() && held.peekFirst().parked == 0) {
            committer.markProcessed(held.pollFirst().lastRecord);
        }
    }
}
