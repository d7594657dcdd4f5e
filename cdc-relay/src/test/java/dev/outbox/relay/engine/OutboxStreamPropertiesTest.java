package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.relay.config.RelayConfig;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Pins the Debezium settings the relay's guarantees rest on. */
class OutboxStreamPropertiesTest {

    private final Properties p = OutboxStream.properties(
            RelayConfig.from(Map.of(
                    "RELAY_DB_URL",
                    "jdbc:postgresql://db.example:6543/shop?sslmode=verify-full&sslrootcert=/ca.pem",
                    "RELAY_DB_SCHEMA",
                    "outbox",
                    "RELAY_SLOT",
                    "shop_relay")),
            "target-handle");

    @Test
    void streamsOnlyTheEventsTableThroughPgoutputOnTheNamedSlot() {
        assertThat(p)
                .containsEntry("plugin.name", "pgoutput")
                .containsEntry("slot.name", "shop_relay")
                .containsEntry("publication.name", "shop_relay_events")
                .containsEntry("publication.autocreate.mode", "filtered")
                .containsEntry("table.include.list", "outbox.events")
                .containsEntry("skipped.operations", "u,d,t");
    }

    @Test
    void storesOffsetsInPostgresAtMostEvery100MillisecondsByDefault() {
        assertThat(p)
                .containsEntry("offset.storage", PostgresOffsetStore.class.getName())
                .containsEntry("offset.flush.interval.ms", "100")
                .containsEntry(PostgresOffsetStore.TARGET_PROPERTY, "target-handle");
    }

    @Test
    void snapshotsRowsWrittenBeforeTheFirstStartInIdOrder() {
        assertThat(p)
                .containsEntry("snapshot.mode", "initial")
                .containsEntry(
                        "snapshot.select.statement.overrides.outbox.events", "SELECT * FROM outbox.events ORDER BY id");
    }

    @Test
    void heartbeatsEmitAWalMessageSoTheSlotMovesWhileEventsIsIdle() {
        assertThat(p.getProperty("heartbeat.interval.ms")).isEqualTo("10000");
        assertThat(p.getProperty("heartbeat.action.query")).contains("pg_logical_emit_message");
    }

    @Test
    void takesHostPortDatabaseAndTlsSettingsFromTheJdbcUrl() {
        assertThat(p)
                .containsEntry("database.hostname", "db.example")
                .containsEntry("database.port", "6543")
                .containsEntry("database.dbname", "shop")
                .containsEntry("database.sslmode", "verify-full")
                .containsEntry("database.sslrootcert", "/ca.pem");
    }
}
