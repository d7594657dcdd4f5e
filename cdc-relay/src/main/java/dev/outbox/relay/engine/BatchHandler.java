package dev.outbox.relay.engine;

import dev.outbox.protocol.OutgoingMessage;
import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.ConfirmingPublisher;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's batch consumer. Each batch is handed to the {@link ConfirmingPublisher} at once;
 * a batch's position is marked processed only once the publisher is confirmed through its
 * last message, so the offset Debezium stores (and the LSN it acknowledges to PostgreSQL)
 * never passes an unconfirmed event.
 *
 * <ul>
 * <li>Pipelined: {@link #handleBatch} returns as soon as the batch is out, while RabbitMQ
 *     confirms it; positions are marked as confirms come, by the next batch or by
 *     {@link #settle()} from a timer, so the last batch before a quiet period is acknowledged
 *     when its confirms arrive, not at the next event or heartbeat.</li>
 * <li>Messages RabbitMQ nacks (most often a queue full with {@code overflow=reject-publish})
 *     are parked and published again with backoff, and later messages of their routing keys
 *     wait behind them, while other keys flow; positions wait behind them. Past
 *     {@code RELAY_MAX_PARKED} messages waiting that way the stream waits too.</li>
 * </ul>
 */
final class BatchHandler implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

    private static final Logger LOG = LoggerFactory.getLogger(BatchHandler.class);

    private final EventRecords records;
    private final ConfirmingPublisher publisher;
    private final RelayMetrics metrics;
    private final int maxParked;
    /** Debezium's committer is not thread-safe; the engine thread, the timer and a stopping thread share it under this lock. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Batches whose position is not marked yet, oldest first. */
    private final Deque<Sent> unmarked = new ArrayDeque<>();

    private DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer;

    /** A batch handed to the publisher: its last record (its position) and the publisher's position of its last message. */
    private record Sent(
            RecordChangeEvent<SourceRecord> lastRecord, long position, int count, long sentAtNanos, Long lastEventId) {}

    BatchHandler(EventRecords records, ConfirmingPublisher publisher, RelayMetrics metrics, int maxParked) {
        this.records = records;
        this.publisher = publisher;
        this.metrics = metrics;
        this.maxParked = maxParked;
    }

    @Override
    public void handleBatch(
            List<RecordChangeEvent<SourceRecord>> batch,
            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        lock.lockInterruptibly();
        try {
            this.committer = committer;
            unmarked.addLast(send(batch));
            if (publisher.waiting() > maxParked) {
                LOG.debug(
                        "{} messages wait behind nacked ones, more than RELAY_MAX_PARKED={}: the stream waits for them",
                        publisher.waiting(),
                        maxParked);
                publisher.awaitWaitingAtMost(maxParked);
            }
            markConfirmed();
            committer.markBatchFinished();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Publishes parked messages that came due and marks the positions confirmed since the last
     * batch; skipped while a batch is being handled. For a timer, so that a quiet stream still
     * acknowledges its last batch and retries its parked messages.
     */
    void settle() throws InterruptedException {
        if (!lock.tryLock()) {
            return;
        }
        try {
            if (committer == null) {
                return;
            }
            publisher.flush();
            if (markConfirmed()) {
                committer.markBatchFinished();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until everything sent is confirmed and stores the position reached. For a clean
     * stop, before the engine is closed, so that a restart publishes nothing twice. Parked
     * messages are not waited for: they and what follows them are published again after the restart.
     */
    void finishInFlight() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            publisher.drain();
            if (committer != null && markConfirmed()) {
                committer.markBatchFinished();
            }
            int waiting = publisher.waiting();
            if (waiting > 0) {
                LOG.warn(
                        "Stopping with {} messages not yet published (nacked: {}); they and the events after them are"
                                + " published again after the restart",
                        waiting,
                        publisher.describeParked());
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
                    LOG.trace(
                            "Event {} payload {}",
                            message.eventId(),
                            new String(message.body(), StandardCharsets.UTF_8));
                }
            }
        }
        long sentAt = System.nanoTime();
        long position = publisher.publish(messages, commitTimes);
        Long lastEventId =
                messages.isEmpty() ? null : messages.get(messages.size() - 1).eventId();
        return new Sent(batch.get(batch.size() - 1), position, messages.size(), sentAt, lastEventId);
    }

    /** Marks the positions of the batches the publisher is confirmed through; whether it marked any. */
    private boolean markConfirmed() throws InterruptedException {
        long through = publisher.confirmedThrough();
        long confirmedAt = publisher.confirmedAtNanos();
        boolean marked = false;
        while (!unmarked.isEmpty() && unmarked.peekFirst().position() <= through) {
            Sent sent = unmarked.pollFirst();
            committer.markProcessed(sent.lastRecord());
            marked = true;
            if (sent.count() > 0) {
                Duration took = Duration.ofNanos(Math.max(0, confirmedAt - sent.sentAtNanos()));
                metrics.batch(sent.count(), took);
                LOG.debug(
                        "Published {} events, confirmed within {} ms (last event id {})",
                        sent.count(),
                        took.toMillis(),
                        sent.lastEventId());
            }
        }
        return marked;
    }
}
