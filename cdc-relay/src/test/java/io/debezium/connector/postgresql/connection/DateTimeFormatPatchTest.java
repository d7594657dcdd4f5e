package io.debezium.connector.postgresql.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.OffsetDateTime;
import java.util.SplittableRandom;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The patched timestamptz parsing (DateTimeFormat's header) gives what Debezium's formatter gives. */
class DateTimeFormatPatchTest {

    private final DateTimeFormat.ISODateTimeFormat format = new DateTimeFormat.ISODateTimeFormat();

    @Test
    void postgresTextOfManyTimesAndOffsetsReadsAsDebeziumReadsIt() {
        SplittableRandom random = new SplittableRandom(20261128);
        for (int i = 0; i < 20_000; i++) {
            String text = postgresText(random);
            assertThat(PostgresTimestamps.parseTimestampWithTimeZone(text)).as(text)
                    .isEqualTo(format.timestampWithTimeZoneToOffsetDateTimeByFormatter(text));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "2026-11-28 12:45:41.594069+00", "2026-11-28 12:45:41+00", "2026-11-28 12:45:41.5+05:30",
            "1883-11-18 12:00:00-04:56:02", "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999-12"})
    void edgeCasesPostgresWritesAreReadByHandWithTheSameResult(String text) {
        OffsetDateTime fast = PostgresTimestamps.parseTimestampWithTimeZone(text);
        assertThat(fast).as("read by hand").isNotNull();
        assertThat(fast).isEqualTo(format.timestampWithTimeZoneToOffsetDateTimeByFormatter(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0044-03-15 12:00:00+00 BC", "12026-01-01 00:00:00+00", "2026-02-30 00:00:00+00",
            "2026-11-28 12:45:41.+00", "2026-11-28 12:45:41.1234567890+00", "2026-11-28 12:45:41"})
    void anythingElseGoesDebeziumsWayWithDebeziumsResultOrError(String text) {
        assertThat(PostgresTimestamps.parseTimestampWithTimeZone(text)).as("left to the formatter").isNull();
        Object expected;
        try {
            expected = format.timestampWithTimeZoneToOffsetDateTimeByFormatter(text);
        } catch (ConnectException e) {
            expected = ConnectException.class;
        }
        if (expected == ConnectException.class) {
            assertThatThrownBy(() -> format.timestampWithTimeZoneToOffsetDateTime(text)).isInstanceOf(ConnectException.class);
        } else {
            assertThat(format.timestampWithTimeZoneToOffsetDateTime(text)).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-11-28T12:45:41+00", "not a time", "2026-11-28 12:45:41+0"})
    void textThatIsNoTimestampStillFailsAsDebeziumFailsIt(String text) {
        assertThat(PostgresTimestamps.parseTimestampWithTimeZone(text)).isNull();
        assertThatThrownBy(() -> format.timestampWithTimeZoneToOffsetDateTime(text)).isInstanceOf(ConnectException.class);
    }

    /** A timestamptz as PostgreSQL writes it with DateStyle ISO: fraction without trailing zeros, offset as short as it goes. */
    private static String postgresText(SplittableRandom random) {
        StringBuilder s = new StringBuilder(String.format("%04d-%02d-%02d %02d:%02d:%02d", random.nextInt(1, 10_000),
                random.nextInt(1, 13), random.nextInt(1, 29), random.nextInt(24), random.nextInt(60), random.nextInt(60)));
        if (random.nextBoolean()) {
            String micros = String.format("%06d", random.nextInt(1_000_000)).replaceAll("0+$", "");
            if (!micros.isEmpty()) {
                s.append('.').append(micros);
            }
        }
        s.append(random.nextBoolean() ? '+' : '-').append(String.format("%02d", random.nextInt(15)));
        int minutes = random.nextInt(4) == 0 ? random.nextInt(60) : 0;
        int seconds = random.nextInt(10) == 0 ? random.nextInt(1, 60) : 0;
        if (minutes != 0 || seconds != 0) {
            s.append(String.format(":%02d", minutes));
        }
        if (seconds != 0) {
            s.append(String.format(":%02d", seconds));
        }
        return s.toString();
    }
}
