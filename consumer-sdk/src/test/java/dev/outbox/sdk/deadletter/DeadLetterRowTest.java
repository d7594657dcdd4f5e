package dev.outbox.sdk.deadletter;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a captured message becomes a row: reason, queue, original exchange and key, dedupe key. */
class DeadLetterRowTest {

    private static final byte[] BODY = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

    private static AMQP.BasicProperties props(String id, Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId(id).headers(headers).build();
    }

    private static Map<String, Object> death(String reason, String queue, long count) {
        return Map.of(
                "reason",
                reason,
                "queue",
                queue,
                "exchange",
                "order",
                "count",
                count,
                "routing-keys",
                List.of("order.created"),
                "time",
                new Date(1_700_000_000_000L));
    }

    @Test
    void brokerDeathsAreReadFromXDeath() {
        var row = DeadLetterCapture.row(
                new Envelope(1, false, "DLX", "order.created"),
                props("m-1", Map.of("x-death", List.of(death("expired", "orders_q", 1)))),
                BODY,
                false);
        assertThat(row.reason()).isEqualTo("expired");
        assertThat(row.queue()).isEqualTo("orders_q");
        assertThat(row.exchange()).isEqualTo("order");
        assertThat(row.routingKey()).isEqualTo("order.created");
        assertThat(row.bodyJson()).isEqualTo("{\"a\":1}");
        assertThat(row.deadLetteredAt().toEpochMilli()).isEqualTo(1_700_000_000_000L);
    }

    @Test
    void theNewestDeathNamesTheQueueAndReasonNotTheFirst() {
        // A message retried through orders_q.retry.500 (where it expired, by design) then over-length in orders_q:
        // x-first-death-* still name the retry queue, x-death[0] names where it really died.
        var headers = Map.<String, Object>of(
                "x-death",
                List.of(death("maxlen", "orders_q", 1), death("expired", "orders_q.retry.500", 1)),
                "x-first-death-reason",
                "expired",
                "x-first-death-queue",
                "orders_q.retry.500",
                "x-first-death-exchange",
                "");
        var row = DeadLetterCapture.row(new Envelope(1, false, "DLX", "orders_q"), props("m-4", headers), BODY, false);
        assertThat(row.reason()).isEqualTo("maxlen");
        assertThat(row.queue()).isEqualTo("orders_q");
    }

    @Test
    void ourOwnHeadersWinAndTheirIdDeduplicates() {
        var headers = Map.<String, Object>of(
                "dead-letter-reason",
                "retries_exhausted",
                "dead-letter-queue",
                "q1",
                "dead-letter-id",
                "abc",
                "retry-count",
                5,
                "error",
                "boom",
                "original-exchange",
                "order",
                "original-routing-key",
                "order.paid");
        var row = DeadLetterCapture.row(new Envelope(1, true, "DLX", "order.paid"), props("m-2", headers), BODY, false);
        assertThat(row.reason()).isEqualTo("retries_exhausted");
        assertThat(row.retryCount()).isEqualTo(5);
        assertThat(row.lastError()).isEqualTo("boom");
        assertThat(row.dedupeKey()).isEqualTo("id:abc");
    }

    @Test
    void theSameDeathGivesTheSameKeyAndAnotherDeathAnother() {
        var first = DeadLetterCapture.row(
                new Envelope(1, false, "DLX", "k.x"),
                props("m-3", Map.of("x-death", List.of(death("rejected", "q", 1)))),
                BODY,
                false);
        var redelivered = DeadLetterCapture.row(
                new Envelope(2, true, "DLX", "k.x"),
                props("m-3", Map.of("x-death", List.of(death("rejected", "q", 1)))),
                BODY,
                false);
        var afterReplay = DeadLetterCapture.row(
                new Envelope(3, false, "DLX", "k.x"),
                props("m-3", Map.of("x-death", List.of(death("rejected", "q", 1)), "replay-count", 1)),
                BODY,
                false);
        assertThat(redelivered.dedupeKey()).isEqualTo(first.dedupeKey());
        assertThat(afterReplay.dedupeKey()).isNotEqualTo(first.dedupeKey());
    }

    @Test
    void unroutedMessagesAreUnroutableAndNonJsonBodiesStayBytes() {
        var row = DeadLetterCapture.row(
                new Envelope(1, false, "lonely", "lonely.created"),
                props("m-4", null),
                "not json".getBytes(StandardCharsets.UTF_8),
                true);
        assertThat(row.reason()).isEqualTo("unroutable");
        assertThat(row.queue()).isEqualTo("unrouted");
        assertThat(row.exchange()).isEqualTo("lonely");
        assertThat(row.bodyJson()).isNull();
    }

    @Test
    void ourHeadersSetByAPublisherDoNotOverrideWhereRabbitMqSaysTheMessageDied() {
        // A publisher outside the SDK can set dead-letter-* and original-* on its message; when RabbitMQ then
        // dead-letters it (expired), the row must say orders_q/expired, or a replay would go where the publisher chose.
        var headers = Map.<String, Object>of(
                "x-death",
                List.of(death("expired", "orders_q", 1)),
                "dead-letter-reason",
                "relay_error",
                "dead-letter-queue",
                "victim_q",
                "dead-letter-id",
                "abc",
                "original-exchange",
                "victim",
                "original-routing-key",
                "victim.x");
        var row = DeadLetterCapture.row(
                new Envelope(1, false, "DLX", "order.created"), props("m-5", headers), BODY, false);
        assertThat(row.reason()).isEqualTo("expired");
        assertThat(row.queue()).isEqualTo("orders_q");
        assertThat(row.exchange()).isEqualTo("order");
        assertThat(row.routingKey()).isEqualTo("order.created");
        assertThat(row.dedupeKey()).isNotEqualTo("id:abc");
    }

    @Test
    void aDeadLetteredAtInTheFutureIsNotBelieved() {
        var headers = Map.<String, Object>of(
                "x-death",
                List.of(death("expired", "orders_q", 1)),
                "dead-letter-reason",
                "rejected",
                "dead-letter-queue",
                "victim_q",
                "dead-lettered-at",
                java.time.Instant.now().plus(java.time.Duration.ofDays(1)).toString());
        var row = DeadLetterCapture.row(
                new Envelope(1, false, "DLX", "order.created"), props("m-6", headers), BODY, false);
        assertThat(row.queue()).isEqualTo("orders_q");
        assertThat(row.reason()).isEqualTo("expired");
    }

    @Test
    void theSdkDeadLetteringAfterARetryHopIsTheNewerDeath() {
        Map<String, Object> hop = Map.of(
                "reason",
                "expired",
                "queue",
                "orders_q.retry.500",
                "exchange",
                "",
                "count",
                2L,
                "routing-keys",
                List.of("orders_q.retry.500"),
                "time",
                new Date(1_700_000_000_000L));
        var headers = Map.<String, Object>of(
                "x-death",
                List.of(hop),
                "dead-letter-reason",
                "retries_exhausted",
                "dead-letter-queue",
                "orders_q",
                "dead-letter-id",
                "d-1",
                "original-exchange",
                "order",
                "original-routing-key",
                "order.created",
                "retry-count",
                5,
                "dead-lettered-at",
                java.time.Instant.ofEpochMilli(1_700_000_002_000L).toString());
        var row = DeadLetterCapture.row(
                new Envelope(1, false, "DLX", "order.created"), props("m-7", headers), BODY, false);
        assertThat(row.reason()).isEqualTo("retries_exhausted");
        assertThat(row.queue()).isEqualTo("orders_q");
        assertThat(row.routingKey()).isEqualTo("order.created");
        assertThat(row.dedupeKey()).isEqualTo("id:d-1");
    }

    @Test
    void anUnroutedMessageIsListedUnderTheBrokersRoutingKeyNotTheOneItsHeadersClaim() {
        var row = DeadLetterCapture.row(
                new Envelope(1, false, "lonely", "lonely.created"),
                props("m-8", Map.of("original-exchange", "victim", "original-routing-key", "victim.x")),
                BODY,
                true);
        assertThat(row.routingKey()).isEqualTo("lonely.created");
        assertThat(row.exchange()).isEqualTo("lonely");
    }

    @Test
    void retryCountsTheSdkCouldNotHaveWrittenReadAsZero() {
        for (Object forged : List.of(-4, 99_999_999_999L, "abc", 2.5, "-1")) {
            var row = DeadLetterCapture.row(
                    new Envelope(1, false, "DLX", "order.created"),
                    props("m-9", Map.of("x-death", List.of(death("expired", "orders_q", 1)), "retry-count", forged)),
                    BODY,
                    false);
            assertThat(row.retryCount()).as("retry-count %s", forged).isZero();
        }
    }
}
