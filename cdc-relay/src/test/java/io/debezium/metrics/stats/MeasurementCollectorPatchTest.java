package io.debezium.metrics.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.debezium.metrics.event.MeasurementEvent;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The patched collector (measurement-collector.patch): its thread waits for measurements instead
 * of polling, takes what a burst queued in one go (it pauses between goes, so it wakes a few times
 * a second under load instead of once per event) and still stops.
 */
class MeasurementCollectorPatchTest {

    private record Lag(long millis) implements MeasurementEvent {}

    @Test
    void aMeasurementIsPublishedByTheWaitingThreadAndStopEndsIt() {
        List<Long> seen = new CopyOnWriteArrayList<>();
        Set<Thread> before = publishers();
        MeasurementCollector<Lag> collector = new MeasurementCollector<>();
        Measurement<Lag> record = event -> seen.add(event.millis());
        collector.addMeasurement(Lag.class, record);
        Thread publisher = await().atMost(Duration.ofSeconds(10))
                .until(() -> publishers().stream().filter(t -> !before.contains(t)).findFirst(), Optional::isPresent)
                .orElseThrow();

        collector.accept(new Lag(42));
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.equals(List.of(42L)));
        // Upstream's thread polls with a 100 ms timeout (TIMED_WAITING); the patched one waits.
        await("between measurements the thread waits without a timeout")
                .atMost(Duration.ofSeconds(10))
                .until(publisher::getState, state -> state == Thread.State.WAITING);

        collector.stop();
        await("stop() ends the waiting thread").atMost(Duration.ofSeconds(10)).until(() -> !publisher.isAlive());
    }

    @Test
    void aBurstOfMeasurementsIsPublishedWholeAndInOrderAndStopEndsThePause() {
        List<Long> seen = new CopyOnWriteArrayList<>();
        Set<Thread> before = publishers();
        MeasurementCollector<Lag> collector = new MeasurementCollector<>();
        try {
            Measurement<Lag> record = event -> seen.add(event.millis());
            collector.addMeasurement(Lag.class, record);
            List<Long> burst = LongStream.range(0, 900).boxed().toList();

            burst.forEach(millis -> collector.accept(new Lag(millis)));

            await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= burst.size());
            assertThat(seen).as("none dropped, none twice, in order").isEqualTo(burst);
        } finally {
            collector.stop();
        }
        // Stopped right after a go, the thread is most likely in its pause: the interrupt ends it there too.
        await("stop() ends the thread").atMost(Duration.ofSeconds(10)).until(() -> publishers().stream()
                .noneMatch(t -> !before.contains(t)));
    }

    private static Set<Thread> publishers() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> Arrays.stream(e.getValue())
                        .anyMatch(f -> f.getClassName().endsWith("MeasurementCollector$MeasurementPublisher")))
                .map(Map.Entry::getKey)
                .collect(Collectors.toSet());
    }
}
