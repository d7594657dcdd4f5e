package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The shape of a subscription's queues: which retry queues exist and what RabbitMQ is asked for. */
class SubscriptionQueuesTest {

    private static SubscriptionQueues queues(SubscriptionOptions options) {
        return new SubscriptionQueues(null, options);
    }

    @Test
    void aRetryWaitsInTheQueueOfItsBackoffStep() {
        SubscriptionQueues q = queues(SubscriptionOptions.queue("orders").backoff(Duration.ofSeconds(3), 3.0));
        assertThat(q.retryDelay(Duration.ofSeconds(3))).isEqualTo(3_000);
        assertThat(q.retryDelay(Duration.ofSeconds(9))).isEqualTo(9_000);
        assertThat(q.retryDelay(Duration.ofSeconds(27))).isEqualTo(27_000);
    }

    @Test
    void anyOtherDelayIsRoundedUpNeverDown() {
        SubscriptionQueues q = queues(SubscriptionOptions.queue("orders"));
        assertThat(q.retryDelay(Duration.ofMillis(1))).isEqualTo(100);
        assertThat(q.retryDelay(Duration.ofMillis(1_001))).isEqualTo(2_000);
        assertThat(q.retryDelay(Duration.ofSeconds(17))).isEqualTo(30_000);
        assertThat(q.retryDelay(Duration.ofDays(30)))
                .as("at most the longest")
                .isEqualTo(Duration.ofHours(24).toMillis());
    }

    @Test
    void delaysAHandlerAsksForMakeABoundedSetOfRetryQueues() {
        // Before: one retry queue per distinct delay in milliseconds, so a handler asking for random delays made
        // thousands.
        SubscriptionQueues q = queues(SubscriptionOptions.queue("orders").maxRetries(1000));
        Set<Long> distinct = new HashSet<>();
        for (long ms = 1; ms < Duration.ofDays(2).toMillis(); ms = ms * 11 / 10 + 1) {
            distinct.add(q.retryDelay(Duration.ofMillis(ms)));
        }
        assertThat(distinct.size()).isLessThanOrEqualTo(SubscriptionQueues.LADDER.size() + 64);
    }

    @Test
    void quorumQueuesDeadLetterAtLeastOnceAndRetryQueuesExpireWhenUnused() {
        SubscriptionQueues q = queues(SubscriptionOptions.queue("orders"));
        assertThat(q.workQueueArguments())
                .containsEntry("x-queue-type", "quorum")
                .containsEntry("x-dead-letter-exchange", "DLX")
                .containsEntry("x-dead-letter-strategy", "at-least-once")
                .containsEntry("x-overflow", "reject-publish");
        assertThat(q.retryQueueArguments(5_000))
                .containsEntry("x-queue-type", "quorum")
                .containsEntry("x-message-ttl", 5_000L)
                .containsEntry("x-dead-letter-exchange", "")
                .containsEntry("x-dead-letter-routing-key", "orders")
                .containsEntry("x-dead-letter-strategy", "at-least-once")
                .containsEntry("x-overflow", "reject-publish");
        assertThat((Long) q.retryQueueArguments(5_000).get("x-expires"))
                .as("outlives any message put in it")
                .isGreaterThan(2 * 5_000L);
    }

    @Test
    void classicQueuesKeepTheirOwnArguments() {
        SubscriptionQueues q =
                queues(SubscriptionOptions.queue("orders").queueType(SubscriptionOptions.QueueType.CLASSIC));
        assertThat(q.workQueueArguments()).doesNotContainKeys("x-queue-type", "x-dead-letter-strategy", "x-overflow");
        assertThat(q.retryQueueArguments(1_000))
                .doesNotContainKeys("x-queue-type", "x-dead-letter-strategy")
                .containsKey("x-expires");
    }
}
