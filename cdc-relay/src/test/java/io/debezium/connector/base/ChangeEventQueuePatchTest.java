package io.debezium.connector.base;

import static org.assertj.core.api.Assertions.assertThat;

import io.debezium.pipeline.Sizeable;
import io.debezium.util.LoggingContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The patched queue (ChangeEventQueue's header): woken by the first record, idle without busy polling. */
class ChangeEventQueuePatchTest {

    private record Event(String name) implements Sizeable {
        @Override
        public long objectSize() {
            return 1;
        }
    }

    private final ExecutorService poller = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopPoller() throws InterruptedException {
        poller.shutdownNow();
        assertThat(poller.awaitTermination(10, TimeUnit.SECONDS)).as("poller stopped").isTrue();
    }

    private static ChangeEventQueue<Event> queue(Duration pollInterval) {
        return new ChangeEventQueue.Builder<Event>()
                .pollInterval(pollInterval)
                .maxQueueSize(100)
                .maxBatchSize(10)
                .loggingContextSupplier(() -> LoggingContext.forConnector("test", "test", "test"))
                .build();
    }

    /** poll() on the poller thread, as the engine calls it. */
    private CompletableFuture<List<Event>> pollInBackground(ChangeEventQueue<Event> queue) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return queue.poll();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                },
                poller);
    }

    @Test
    void aWaitingPollReturnsTheFirstRecordWithoutWaitingForABatchOrItsWaitToEnd() throws Exception {
        // A poll interval of an hour makes poll() wait RETURN_CONTROL_INTERVAL (5 s) when nothing wakes it.
        ChangeEventQueue<Event> queue = queue(Duration.ofHours(1));
        CompletableFuture<List<Event>> polled = pollInBackground(queue);
        // Whether poll() is already waiting or not yet: either way it must not sit out its 5 s wait.
        queue.enqueue(new Event("first"));
        assertThat(polled.get(3, TimeUnit.SECONDS)).as("woken by the first record, long before the 5 s wait is over")
                .containsExactly(new Event("first"));
    }

    @Test
    void aProducerErrorWakesAWaitingPollInsteadOfWaitingOutItsIdleWait() throws Exception {
        ChangeEventQueue<Event> queue = queue(Duration.ofHours(1)); // 5 s idle wait
        CompletableFuture<List<Event>> polled = pollInBackground(queue);
        queue.producerException(new IllegalStateException("the WAL reader failed"));
        assertThat(polled)
                .as("raised long before the 5 s wait is over")
                .failsWithin(3, TimeUnit.SECONDS)
                .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .withRootCauseInstanceOf(IllegalStateException.class)
                .withMessageContaining("the WAL reader failed");
    }

    @Test
    void anIdlePollWaitsAtLeastHalfASecondAndAtMostTheReturnControlInterval() {
        assertThat(ChangeEventQueue.idleWait(Duration.ofMillis(2))).isEqualTo(Duration.ofMillis(500));
        assertThat(ChangeEventQueue.idleWait(Duration.ofMillis(800))).isEqualTo(Duration.ofMillis(800));
        assertThat(ChangeEventQueue.idleWait(Duration.ofHours(1))).isEqualTo(Duration.ofSeconds(5));
    }
}
