package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.debezium.connector.base.ChangeEventQueue;
import org.junit.jupiter.api.Test;

/**
 * The relay replaces Debezium's ChangeEventQueue with a copy whose poll() waits on nanoseconds
 * (see the class's header). These tests keep that copy honest: it is the class the relay
 * loads, and it was taken from the Debezium version the build uses.
 */
class DebeziumPatchTest {

    private static final String PATCHED_FROM = "3.6.1.Final";

    @Test
    void patchedQueueWasTakenFromTheDebeziumVersionInUse() {
        assertThat(io.debezium.connector.postgresql.Module.version())
                .as("ChangeEventQueue in cdc-relay is a patched copy of Debezium " + PATCHED_FROM
                        + "'s: compare it with the new version's source, re-apply the patch (or drop it if fixed), then update PATCHED_FROM")
                .isEqualTo(PATCHED_FROM);
    }

    @Test
    void relayLoadsThePatchedQueueNotDebeziumsOwn() throws Exception {
        String location = ChangeEventQueue.class.getProtectionDomain().getCodeSource().getLocation().toString();
        assertThat(location).as("where ChangeEventQueue was loaded from").doesNotContain("debezium-connector-common");
    }
}
