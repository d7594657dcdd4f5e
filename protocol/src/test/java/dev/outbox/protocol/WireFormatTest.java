package dev.outbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WireFormatTest {

    @Test
    void createdAtTextIsWhatIsoInstantWritesForManyInstants() {
        SplittableRandom random = new SplittableRandom(42);
        long first = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond();
        long last = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        int[] nanoSteps = {1_000_000_000, 1_000_000, 1_000, 1};
        for (int i = 0; i < 50_000; i++) {
            int step = nanoSteps[random.nextInt(nanoSteps.length)];
            Instant at = Instant.ofEpochSecond(
                    random.nextLong(first, last + 1), (long) random.nextInt(1_000_000_000 / step) * step);
            assertThat(WireFormat.isoInstant(at)).isEqualTo(DateTimeFormatter.ISO_INSTANT.format(at));
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "1970-01-01T00:00:00Z",
                "2026-11-28T12:45:41.594069Z",
                "2026-11-28T12:45:41.500Z",
                "2026-11-28T12:45:41.000000001Z",
                "0001-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999999Z",
                "0000-12-31T23:59:59Z",
                "+10000-01-01T00:00:00Z",
                "-0001-06-01T00:00:00Z",
                "+294247-01-10T04:00:54.775807Z"
            })
    void edgesAndYearsOutsideOneTo9999AreWrittenAsIsoInstantWritesThem(String text) {
        Instant at = Instant.parse(text);
        assertThat(WireFormat.isoInstant(at))
                .isEqualTo(DateTimeFormatter.ISO_INSTANT.format(at))
                .isEqualTo(text);
    }
}
