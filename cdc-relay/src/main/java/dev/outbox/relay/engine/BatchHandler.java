package dev.outbox.relay.engine;

import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.ConfirmingPublisher;
import dev.outbox.sdk.wire.OutgoingMessage;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's batch consumer: publishes the batch's events, waits until RabbitMQ confirmed all
 * of them, and only then marks the records processed, so that the offset Debezium stores (and
 * the LSN it acknowledges to PostgreSQL) never passes an unconfirmed event.
 */
final class BatchHandler implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

    private static final Logger LOG = LoggerFactory.getLogger(BatchHandler.class);

    private final EventRecords records;
    private final ConfirmingPublisher publisher;
    private final RelayMetrics metrics;

    BatchHandler(EventRecords records, ConfirmingPublisher publisher, RelayMetrics metrics) {
        this.records = records;
        this.publisher = publisher;
        this.metrics = metrics;
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> batch,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        List<OutgoingMessage> messages = new ArrayList<>(batch.size());
        long[] commitTimes = new long[batch.size()];
        for (RecordChangeEvent<SourceRecord> event : batch) {
            SourceRecord record = event.record();
            OutgoingMessage message = records.toMessage(record);
            if (message != null) {
                commitTimes[messages.size()] = EventRecords.commitTimeMillis(record);
                messages.add(message);
                if (LOG.isTraceEnabled()) {
                    LOG.trace("Event {} payload {}", message.eventId(), new String(message.body(), java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
        long started = System.nanoTime();
        publisher.publishAll(messages);
        long now = System.currentTimeMillis();
        for (int i = 0; i < messages.size(); i++) {
            metrics.confirmedAfterCommit(commitTimes[i], now);
        }
        if (!messages.isEmpty()) {
            metrics.batch(messages.size(), Duration.ofNanos(System.nanoTime() - started));
            LOG.debug("Published and confirmed {} events in {} ms (last event id {})", messages.size(),
                    (System.nanoTime() - started) / 1_000_000, messages.get(messages.size() - 1).eventId());
        }
        for (RecordChangeEvent<SourceRecord> event : batch) {
            committer.markProcessed(event);
        }
        committer.markBatchFinished();
    }
}
