package dev.outbox.relay.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NewDeadLettersGaugeTest {

    @Test
    void aSeriesSeenBeforeReadsZeroOnceItsRowsAreHandled() {
        RelayMetrics metrics = new RelayMetrics();
        metrics.newDeadLetters(Map.of(List.of("billing", "rejected"), 3L, List.of("shipping", "expired"), 1L));
        assertThat(metrics.scrape())
                .contains("relay_dead_letters_new{queue=\"billing\",reason=\"rejected\"} 3.0")
                .contains("relay_dead_letters_new{queue=\"shipping\",reason=\"expired\"} 1.0");
        metrics.newDeadLetters(Map.of(List.of("shipping", "expired"), 2L));
        assertThat(metrics.scrape())
                .contains("relay_dead_letters_new{queue=\"billing\",reason=\"rejected\"} 0.0")
                .contains("relay_dead_letters_new{queue=\"shipping\",reason=\"expired\"} 2.0");
    }

    @Test
    void queuesPastTheSeriesLimitAreSummedUnderOther() {
        RelayMetrics metrics = new RelayMetrics();
        Map<List<String>, Long> many = new HashMap<>();
        for (int i = 0; i < RelayMetrics.MAX_DEAD_LETTER_SERIES + 10; i++) {
            many.put(List.of("q" + i, "rejected"), 1L);
        }
        metrics.newDeadLetters(many);
        String scrape = metrics.scrape();
        assertThat(scrape.lines().filter(l -> l.startsWith("relay_dead_letters_new{")))
                .hasSize(RelayMetrics.MAX_DEAD_LETTER_SERIES + 1);
        assertThat(scrape).contains("relay_dead_letters_new{queue=\"other\",reason=\"rejected\"} 10.0");
    }
}
