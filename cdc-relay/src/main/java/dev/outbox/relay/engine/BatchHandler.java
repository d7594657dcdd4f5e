package dev.outbox.relay.engine;

import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.ConfirmingPublisher;
import dev.outbox.sdk.wire.OutgoingMessage;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's batch consumer. Each batch is sent to RabbitMQ at once; its records are marked
 * processed only after RabbitMQ confirmed every message in it, so the offset Debezium stores
 * (and the LSN it acknowledges to PostgreSQL) never passes an unconfirmed event.
 *
 * <p>Pipelined one batch deep: batch N is sent before the confirms of batch N-1 are awaited,
 * so the broker's confirm latency (a disk sync) overlaps with reading and sending the next
 * batch instead of adding to every event's delay. The last batch of a burst is finished by
 * the next batch, by the next heartbeat, or by {@link #finishInFlight()} on a clean stop; a
 * crash before that only means it is published again.
 */
final class BatchHandler implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

    private static final Logger LOG = LoggerFactory.getLogger(BatchHandler.class);

    private final EventRecords records;
    private final ConfirmingPublisher publisher;
    private final RelayMetrics metrics;
    /** Debezium's committer is not thread-safe; the engine thread and a stopping thread share it under this lock. */
    private final ReentrantLock lock = new ReentrantLock();

    private Sent inFlight;
    private DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer;
    private boolean stopping;

    /** A batch sent and not yet confirmed: its records, the publish in flight, when its events were committed. */
    private record Sent(List<RecordChangeEvent<SourceRecord>> records, ConfirmingPublisher.InFlight publish,
                        long[] commitTimes, long sentAtNanos, Long lastEventId) {
    }

    BatchHandler(EventRecords records, ConfirmingPublisher publisher, RelayMetrics metrics) {
        this.records = records;
        this.publisher = publisher;
        this.metrics = metrics;
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
            committer.markBatchFinished();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for the batch in flight to be confirmed and stores its offset; every batch after
     * this is confirmed before {@link #handleBatch} returns. For a clean stop, before the
     * engine is closed, so that a restart publishes nothing twice.
     */
    void finishInFlight() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            stopping = true;
            if (inFlight != null) {
                Sent last = inFlight;
                inFlight = null;
                complete(last);
                committer.markBatchFinished();
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
        return new Sent(batch, publish, commitTimes, sentAt, lastEventId);
    }

    private void complete(Sent sent) throws InterruptedException {
        publisher.finish(sent.publish());
        int count = sent.publish().size();
        if (count > 0) {
            long now = System.currentTimeMillis();
            for (int i = 0; i < count; i++) {
                metrics.confirmedAfterCommit(sent.commitTimes()[i], now);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - sent.sentAtNanos());
            metrics.batch(count, took);
            LOG.debug("Published and confirmed {} events in {} ms (last event id {})", count, took.toMillis(),
                    sent.lastEventId());
        }
        for (RecordChangeEvent<SourceRecord> event : sent.records()) {
            committer.markProcessed(event);
        }
    }
}
