/*
 * Copyright Debezium Authors.
 *
 * Licensed under the Apache Software License version 2.0, available at http://www.apache.org/licenses/LICENSE-2.0
 */
package io.debezium.embedded.async;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.debezium.engine.DebeziumEngine;

/**
 * {@link RecordProcessor} which transforms and converts the records in parallel and then pass the whole batch to the user-provided handler.
 * This processor should be used when user provides its own {@link DebeziumEngine.ChangeConsumer} and records should be converted to different format.
 *
 * @author vjuranek
 */
public class ParallelSmtAndConvertBatchProcessor<R> extends AbstractRecordProcessor<R> {
    private static final Logger LOGGER = LoggerFactory.getLogger(ParallelSmtAndConvertBatchProcessor.class);

    private final Function<SourceRecord, R> convertor;
    private final BatchProcessor<R> processor;

    ParallelSmtAndConvertBatchProcessor(Function<SourceRecord, R> convertor,
                                        BatchProcessor<R> processor) {
        this.convertor = convertor;
        this.processor = processor;
    }

    @Override
    public void processRecords(final List<SourceRecord> records) throws Exception {
        // cdc-relay patch: transforms and converts on the polling thread (was: one task per record
        // submitted to the record pool, then waited for). The pool the engine makes by default has
        // no core threads and an unbounded queue, so it never runs more than one thread and the
        // work was serial anyway; handing it over cost two thread switches per batch, and at
        // moderate rates a batch holds one event (docs/decisions/018-one-thread-per-event.md).
        LOGGER.debug("Thread {} is transforming {} records.", Thread.currentThread().getName(), records.size());
        final List<R> convertedRecords = new ArrayList<>(records.size());
        for (SourceRecord r : records) {
            R record = new ProcessingCallables.TransformAndConvertRecord<R>(r, transformations, convertor).call();
            if (record != null) {
                convertedRecords.add(record);
            }
        }

        processor.process(convertedRecords);

    }

    public static <R> ParallelSmtAndConvertBatchProcessor<R> create(DebeziumEngine.RecordCommitter<R> committer,
                                                                    Function<SourceRecord, R> convertor,
                                                                    DebeziumEngine.ChangeConsumer<R> userHandler,
                                                                    Watcher watcher,
                                                                    DebeziumEngine.Shutdown<R> shutdown,
                                                                    Runnable runner, Map<String, String> configuration) {
        if (shutdown == null) {
            return new ParallelSmtAndConvertBatchProcessor<>(convertor, new BatchProcessor.DirectProcessor<>(committer, userHandler));
        }

        return new ParallelSmtAndConvertBatchProcessor<>(
                convertor,
                new BatchProcessor.ObservableProcessor<>(watcher, committer,
                        new ShutdownChangeConsumer<>(
                                DefaultShutdownHandler.create(shutdown.before(), runner, committer, configuration),
                                DefaultShutdownHandler.create(shutdown.after(), runner, committer, configuration),
                                userHandler, watcher)));

    }
}
