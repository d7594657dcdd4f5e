package io.debezium.embedded.async;

import static org.assertj.core.api.Assertions.assertThat;

import io.debezium.config.Configuration;
import io.debezium.embedded.Transformations;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The patched batch processor (record-processor.patch): transforms and converts a batch on the
 * polling thread, in order, leaving out what a transformation drops, as upstream's did on its
 * record pool.
 */
class ParallelSmtAndConvertBatchProcessorPatchTest {

    /** A transformation that drops records whose topic ends in "drop", as a filter SMT would. */
    public static class DropTopicsEndingInDrop implements Transformation<SourceRecord> {
        @Override
        public SourceRecord apply(SourceRecord record) {
            return record.topic().endsWith("drop") ? null : record;
        }

        @Override
        public ConfigDef config() {
            return new ConfigDef();
        }

        @Override
        public void configure(Map<String, ?> configs) {}

        @Override
        public void close() {}
    }

    private record Converted(String topic, Thread convertedOn) {}

    private final ExecutorService recordPool = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopPool() {
        recordPool.shutdownNow();
    }

    @Test
    void aBatchIsTransformedAndConvertedOnThePollingThreadInOrder() throws Exception {
        List<Converted> handed = new ArrayList<>();
        ParallelSmtAndConvertBatchProcessor<Converted> processor = new ParallelSmtAndConvertBatchProcessor<>(
                record -> new Converted(record.topic(), Thread.currentThread()), handed::addAll);
        processor.initialize(
                recordPool,
                new Transformations(Configuration.create()
                        .with("transforms", "filter")
                        .with("transforms.filter.type", DropTopicsEndingInDrop.class.getName())
                        .build()));

        processor.processRecords(List.of(record("a"), record("b.drop"), record("c")));

        assertThat(handed).extracting(Converted::topic).containsExactly("a", "c");
        assertThat(handed)
                .extracting(Converted::convertedOn)
                .as("converted without a hand-over to the record pool")
                .containsOnly(Thread.currentThread());
    }

    @Test
    void withoutTransformationsEveryRecordIsHandedOn() throws Exception {
        List<Converted> handed = new ArrayList<>();
        ParallelSmtAndConvertBatchProcessor<Converted> processor = new ParallelSmtAndConvertBatchProcessor<>(
                record -> new Converted(record.topic(), Thread.currentThread()), handed::addAll);
        processor.initialize(recordPool, new Transformations(Configuration.empty()));

        processor.processRecords(List.of(record("only")));

        assertThat(handed).containsExactly(new Converted("only", Thread.currentThread()));
    }

    private static SourceRecord record(String topic) {
        return new SourceRecord(Map.of(), Map.of(), topic, null, "value");
    }
}
