package dev.outbox.relay.engine;

import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.Date;
import java.util.Properties;
import org.apache.kafka.connect.data.SchemaBuilder;

/**
 * Hands the {@code events.created_at} column to the relay as microseconds since the epoch
 * instead of Debezium's ISO text. Debezium formats every {@code timestamptz} as text and the
 * relay parsed it back into an {@code Instant}: about 9% of the relay's CPU in a drain (JFR).
 *
 * <p>Values out of the range of a {@code long} of microseconds ({@code 'infinity'}, which
 * the table's {@code created_at_must_be_finite} constraint keeps out of new rows) become
 * {@link Long#MAX_VALUE} or {@link Long#MIN_VALUE}, so such a row is still published; a value
 * of a type this class does not know becomes {@code null}, and the relay then uses the
 * transaction's commit time (see {@link EventRecords}).
 */
public final class CreatedAtConverter implements CustomConverter<SchemaBuilder, RelationalColumn> {

    /** The name of the converted field's schema, so a reader can tell it from Debezium's own types. */
    public static final String SCHEMA_NAME = "dev.outbox.relay.EpochMicros";
    static final String COLUMN = "created_at";

    @Override
    public void configure(Properties props) {
    }

    @Override
    public void converterFor(RelationalColumn column, ConverterRegistration<SchemaBuilder> registration) {
        if (COLUMN.equals(column.name()) && "timestamptz".equalsIgnoreCase(column.typeName())) {
            registration.register(SchemaBuilder.int64().name(SCHEMA_NAME).optional(), CreatedAtConverter::epochMicros);
        }
    }

    /** Microseconds since the epoch of a {@code timestamptz} as Debezium reads it (streaming or snapshot). */
    static Long epochMicros(Object value) {
        Instant instant;
        if (value instanceof OffsetDateTime t) {
            instant = t.toInstant();
        } else if (value instanceof Instant t) {
            instant = t;
        } else if (value instanceof ZonedDateTime t) {
            instant = t.toInstant();
        } else if (value instanceof Timestamp t) {
            instant = t.toInstant();
        } else if (value instanceof Date t) {
            instant = t.toInstant();
        } else {
            return null;
        }
        try {
            return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
        } catch (ArithmeticException outOfRange) {
            return instant.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /** The instant of {@link #epochMicros} microseconds. */
    static Instant toInstant(long epochMicros) {
        return Instant.ofEpochSecond(Math.floorDiv(epochMicros, 1_000_000L), Math.floorMod(epochMicros, 1_000_000L) * 1_000L);
    }
}
