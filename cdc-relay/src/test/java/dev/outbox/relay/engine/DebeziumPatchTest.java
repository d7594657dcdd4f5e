package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.debezium.connector.base.ChangeEventQueue;
import io.debezium.pipeline.meters.CommonEventMeter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The relay replaces two Debezium classes with patched copies (see each class's header):
 * ChangeEventQueue, whose poll() waits on nanoseconds, and CommonEventMeter, which formats the
 * LastEvent metric when it is read instead of for every event. These tests keep the copies
 * honest: they are the classes the relay loads, taken from the Debezium version the build uses.
 */
class DebeziumPatchTest {

    private static final String PATCHED_FROM = "3.6.1.Final";

    @Test
    void patchedQueueWasTakenFromTheDebeziumVersionInUse() {
        assertThat(io.debezium.connector.postgresql.Module.version())
                .as("ChangeEventQueue and CommonEventMeter in cdc-relay are patched copies of Debezium " + PATCHED_FROM
                        + "'s: compare it with the new version's source, re-apply the patch (or drop it if fixed), then update PATCHED_FROM")
                .isEqualTo(PATCHED_FROM);
    }

    @ParameterizedTest
    @ValueSource(classes = {ChangeEventQueue.class, CommonEventMeter.class})
    void relayLoadsThePatchedClassNotDebeziumsOwn(Class<?> patched) {
        String location = patched.getProtectionDomain().getCodeSource().getLocation().toString();
        assertThat(location).as("where " + patched.getSimpleName() + " was loaded from").doesNotContain("debezium-connector-common");
    }
}
