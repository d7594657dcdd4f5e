package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CreatedAtConverterTest {

    @Test
    void streamedTimestampRoundTripsToTheSameInstantToTheMicrosecond() {
        OffsetDateTime streamed = OffsetDateTime.of(2026, 11, 28, 10, 33, 50, 123_456_000, ZoneOffset.ofHours(2));
        Long micros = CreatedAtConverter.epochMicros(streamed);
        assertThat(CreatedAtConverter.toInstant(micros)).isEqualTo(streamed.toInstant());
    }

    @Test
    void snapshotTimestampFromJdbcGivesTheSameInstant() {
        Instant at = Instant.parse("2026-01-02T03:04:05.000006Z");
        assertThat(CreatedAtConverter.toInstant(CreatedAtConverter.epochMicros(Timestamp.from(at))))
                .isEqualTo(at);
    }

    @Test
    void timesBefore1970KeepTheirFraction() {
        Instant at = Instant.parse("1969-12-31T23:59:59.999999Z");
        assertThat(CreatedAtConverter.epochMicros(at)).isEqualTo(-1L);
        assertThat(CreatedAtConverter.toInstant(-1L)).isEqualTo(at);
    }

    @Test
    void infinityBecomesTheLatestOrEarliestExpressibleTimeInsteadOfFailingTheStream() {
        assertThat(CreatedAtConverter.epochMicros(OffsetDateTime.MAX)).isEqualTo(Long.MAX_VALUE);
        assertThat(CreatedAtConverter.epochMicros(OffsetDateTime.MIN)).isEqualTo(Long.MIN_VALUE);
        assertThat(CreatedAtConverter.toInstant(Long.MAX_VALUE)).isAfter(Instant.parse("2999-01-01T00:00:00Z"));
    }

    @ParameterizedTest
    @CsvSource({
        "'2026-11-28 12:13:11.92351+00', 2026-11-28T12:13:11.923510Z",
        "'2026-11-28 17:43:11+05:30', 2026-11-28T12:13:11Z",
        "'1970-01-01T00:00:00.000000Z', 1970-01-01T00:00:00Z"
    })
    void snapshotTextAndDefaultValuesAreRead(String text, String instant) {
        assertThat(CreatedAtConverter.toInstant(CreatedAtConverter.epochMicros(text)))
                .isEqualTo(Instant.parse(instant));
    }

    @Test
    void infinityAsTextBecomesTheLatestOrEarliestExpressibleTime() {
        assertThat(CreatedAtConverter.epochMicros("infinity")).isEqualTo(Long.MAX_VALUE);
        assertThat(CreatedAtConverter.epochMicros("-infinity")).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void valueThatCannotBeReadBecomesNullSoTheCommitTimeIsUsed() {
        assertThat(CreatedAtConverter.epochMicros(42)).isNull();
        assertThat(CreatedAtConverter.epochMicros("yesterday")).isNull();
        assertThat(CreatedAtConverter.epochMicros(null)).isNull();
    }
}
