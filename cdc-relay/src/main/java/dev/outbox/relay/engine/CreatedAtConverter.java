package dev.outbox.relay.engine;

import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.util.Date;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the {@code events.created_at} column to the relay as microseconds since the epoch
 * instead of Debezium's ISO text. Debezium formats every {@code timestamptz} as text and the
 * relay parsed it back into an {@code Instant} (docs/decisions/003-created-at-converter.md).
 *
 * <p>Values out of the range of a {@code long} of microseconds ({@code 'infinity'}, which
 * the table's {@code created_at_must_be_finite} constraint keeps out of new rows) become
 * {@link Long#MAX_VALUE} or {@link Long#MIN_VALUE}, so such a row is still published. Streaming
 * hands over an {@code OffsetDateTime}, the snapshot PostgreSQL's text; a value this class cannot
 * read becomes {@code null}, logged once as a WARN, and the relay then sends the transaction's
 * commit time (see {@link EventRecords}).
 */
public final class CreatedAtConverter implements CustomConverter<SchemaBuilder, RelationalColumn> {

    /** The name of the converted field's schema, so a reader can tell it from Debezium's own types. */
    public static final String SCHEMA_NAME = "dev.outbox.relay.EpochMicros";

    static final String COLUMN = "created_at";
    private static final Logger LOG = LoggerFactory.getLogger(CreatedAtConverter.class);
    private static final AtomicBoolean UNREADABLE_REPORTED = new AtomicBoolean();
    /** {@code 2026-11-28 12:13:11.92351+00}, {@code ...+05:30}, and ISO {@code 1970-01-01T00:00:00.000000Z}. */
    private static final DateTimeFormatter POSTGRES_TEXT = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .optionalStart()
            .appendLiteral('T')
            .optionalEnd()
            .optionalStart()
            .appendLiteral(' ')
            .optionalEnd()
            .append(DateTimeFormatter.ISO_LOCAL_TIME)
            .appendOffset("+HH:mm:ss", "Z")
            .toFormatter();

    @Override
    public void configure(Properties props) {}

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
        } else if (value instanceof Date t) {
            instant = t.toInstant(); // java.sql.Timestamp overrides it, keeping the microseconds
        } else if (value instanceof String text) {
            instant = parseText(text);
        } else {
            instant = null;
        }
        if (instant == null) {
            if (value != null && UNREADABLE_REPORTED.compareAndSet(false, true)) {
                LOG.warn(
                        "created_at value '{}' ({}) could not be read; such events carry their commit time as created-at",
                        value,
                        value.getClass().getName());
            }
            return null;
        }
        try {
            return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
        } catch (ArithmeticException outOfRange) {
            return instant.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /**
     * The snapshot hands timestamps over as PostgreSQL's text ({@code 2026-11-28 12:13:11.92351+00});
     * Debezium's default values as ISO text. {@code null} for anything else.
     */
    private static Instant parseText(String text) {
        String t = text.trim();
        if ("infinity".equalsIgnoreCase(t)) {
            return Instant.MAX;
        }
        if ("-infinity".equalsIgnoreCase(t)) {
            return Instant.MIN;
        }
        try {
            return OffsetDateTime.parse(t, POSTGRES_TEXT).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** The instant of {@link #epochMicros} microseconds. */
    static Instant toInstant(long epochMicros) {
        return Instant.ofEpochSecond(
                Math.floorDiv(epochMicros, 1_000_000L), Math.floorMod(epochMicros, 1_000_000L) * 1_000L);
    }
}
