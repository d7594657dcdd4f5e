package dev.outbox.relay.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeadLetterFilterTest {

    @Test
    void emptyParametersMatchEverythingWithTheDefaultLimit() {
        DeadLetterFilter f = DeadLetterFilter.parse(Map.of("queue", "", "reason", " "));
        assertThat(f).isEqualTo(DeadLetterFilter.none());
        assertThat(f.toParameters()).isEmpty();
    }

    @Test
    void timesAreReadAsInstantsOrAsBrowserDatesInUtc() {
        DeadLetterFilter f = DeadLetterFilter.parse(
                Map.of("since", "2026-12-01T09:30", "until", "2026-12-02", "max_id", "42", "limit", "7"));
        assertThat(f.since()).isEqualTo(Instant.parse("2026-12-01T09:30:00Z"));
        assertThat(f.until()).isEqualTo(Instant.parse("2026-12-02T00:00:00Z"));
        assertThat(f.maxId()).isEqualTo(42L);
        assertThat(f.limit()).isEqualTo(7);
        assertThat(DeadLetterFilter.parse(f.toParameters()).withLimit(7)).isEqualTo(f);
    }

    @Test
    void aFingerprintIsKeptExactlyAsGiven() {
        assertThat(DeadLetterFilter.parse(Map.of("fingerprint", "x: order <n> failed "))
                        .fingerprint())
                .isEqualTo("x: order <n> failed ");
    }

    @Test
    void unknownValuesAreRefusedNamingTheParameterAndTheRule() {
        assertThatThrownBy(() -> DeadLetterFilter.parse(Map.of("reason", "lost")))
                .hasMessage("reason must be one of rejected, expired, maxlen, delivery_limit, retries_exhausted,"
                        + " unroutable, relay_error (was 'lost')");
        assertThatThrownBy(() -> DeadLetterFilter.parse(Map.of("status", "done")))
                .hasMessageStartingWith("status must be one of new, replayed, discarded");
        assertThatThrownBy(() -> DeadLetterFilter.parse(Map.of("limit", "5000")))
                .hasMessage("limit must be a whole number from 1 to 1000 (was '5000')");
        assertThatThrownBy(() -> DeadLetterFilter.parse(Map.of("max_id", "-1")))
                .hasMessageStartingWith("max_id must be a whole number from 1 up");
        assertThatThrownBy(() -> DeadLetterFilter.parse(Map.of("until", "tomorrow")))
                .hasMessageStartingWith("until must be a time such as");
    }
}
