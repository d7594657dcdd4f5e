package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.debezium.connector.base.ChangeEventQueue;
import io.debezium.connector.postgresql.PostgresStreamingChangeEventSource;
import io.debezium.connector.postgresql.connection.DateTimeFormat;
import io.debezium.connector.postgresql.connection.pgoutput.PgOutputMessageDecoder;
import io.debezium.embedded.async.ParallelSmtAndConvertBatchProcessor;
import io.debezium.metrics.stats.MeasurementCollector;
import io.debezium.pipeline.meters.CommonEventMeter;
import org.apache.kafka.connect.data.ConnectSchema;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The relay replaces some Debezium and Kafka classes with patched copies (docs/patches.md; the
 * patches are cdc-relay/patches/*.patch, the copies cdc-relay/src/patched/java):
 * ChangeEventQueue, whose poll() returns what it holds at once; CommonEventMeter, which formats
 * the LastEvent metric when it is read; DateTimeFormat, which reads PostgreSQL's timestamptz
 * text by hand; PgOutputMessageDecoder, which skips a value over 16 MiB (EventRecordsTest,
 * LargePayloadsIT); PostgresStreamingChangeEventSource, whose WAL reader waits on its socket
 * instead of polling (WalWaitIT); MeasurementCollector, whose thread waits for a measurement
 * instead of polling and takes them in batches (MeasurementCollectorPatchTest);
 * ParallelSmtAndConvertBatchProcessor, which converts a batch on the polling thread instead of
 * handing it to the record pool (ParallelSmtAndConvertBatchProcessorPatchTest); and Kafka's ConnectSchema, which words a validation error only when there
 * is one. These tests keep the copies honest: they are the classes the relay loads, taken from
 * the versions the build uses. Each patch's behaviour is pinned by its own test beside the
 * class's package (ChangeEventQueuePatchTest, DateTimeFormatPatchTest, ConnectSchemaPatchTest).
 */
class DebeziumPatchTest {

    private static final String PATCHED_FROM = "3.6.1.Final";
    private static final String PATCHED_FROM_CONNECT_API = "connect-api-4.3.0.jar";

    @Test
    void patchedQueueWasTakenFromTheDebeziumVersionInUse() {
        assertThat(io.debezium.connector.postgresql.Module.version())
                .as("ChangeEventQueue, CommonEventMeter, DateTimeFormat, PgOutputMessageDecoder, MeasurementCollector,"
                        + " ParallelSmtAndConvertBatchProcessor and"
                        + " PostgresStreamingChangeEventSource in cdc-relay are"
                        + " patched copies of Debezium "
                        + PATCHED_FROM
                        + "'s: run scripts/upstream-patches apply, which applies the patches to the new version's"
                        + " source (drop those upstream fixed, see docs/patches.md), then update PATCHED_FROM")
                .isEqualTo(PATCHED_FROM);
    }

    @Test
    void patchedConnectSchemaWasTakenFromTheKafkaConnectApiInUse() {
        // Struct is not patched, so it still comes from the connect-api jar the build resolved.
        assertThat(Struct.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .toString())
                .as("ConnectSchema in cdc-relay is a patched copy of Kafka's " + PATCHED_FROM_CONNECT_API
                        + ": run"
                        + " scripts/upstream-patches apply (or drop the patch if fixed, see docs/patches.md), then update"
                        + " PATCHED_FROM_CONNECT_API")
                .endsWith("/" + PATCHED_FROM_CONNECT_API);
    }

    @ParameterizedTest
    @ValueSource(
            classes = {
                ChangeEventQueue.class,
                CommonEventMeter.class,
                DateTimeFormat.class,
                PgOutputMessageDecoder.class,
                PostgresStreamingChangeEventSource.class,
                MeasurementCollector.class,
                ParallelSmtAndConvertBatchProcessor.class,
                ConnectSchema.class
            })
    void relayLoadsThePatchedClassNotTheLibrarysOwn(Class<?> patched) {
        String location =
                patched.getProtectionDomain().getCodeSource().getLocation().toString();
        assertThat(location)
                .as("where " + patched.getSimpleName() + " was loaded from")
                .endsWith("/target/classes/");
    }
}
