package dev.outbox.relay.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.protocol.OutgoingMessage;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.ScriptedBroker.FakeChannel;
import dev.outbox.relay.publish.ScriptedBroker.Published;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The publishing core's rules, against a scripted broker: what is confirmed through which
 * position, and what a nack, a closed channel, a late confirm or a refused message does to
 * the order of the messages of one routing key.
 */
@Timeout(30)
class ConfirmingPublisherTest {

    private final ScriptedBroker broker = new ScriptedBroker();
    private final RelayMetrics metrics = new RelayMetrics();
    private ConfirmingPublisher publisher = publisher(Map.of());
    private long nextId = 1;

    private ConfirmingPublisher publisher(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(Map.of("RELAY_APP_ID", "unit", "RELAY_CONFIRM_TIMEOUT_MS", "60000"));
        env.putAll(extra);
        return new ConfirmingPublisher(new BrokerSession(broker::connect, "scripted"), RelayConfig.from(env), metrics);
    }

    @AfterEach
    void close() {
        publisher.close();
    }

    private OutgoingMessage event(String routingKey) {
        return event(routingKey, "{}", Map.of());
    }

    private OutgoingMessage event(String routingKey, String body, Map<String, String> headers) {
        long id = nextId++;
        return new OutgoingMessage(
                "m" + id,
                routingKey,
                body.getBytes(StandardCharsets.UTF_8),
                headers,
                id,
                null,
                null,
                Instant.parse("2026-11-30T12:00:00Z"));
    }

    private long publish(OutgoingMessage... messages) throws InterruptedException {
        return publisher.publish(List.of(messages), null);
    }

    private static List<String> ids(OutgoingMessage... messages) {
        List<String> ids = new ArrayList<>();
        for (OutgoingMessage m : messages) {
            ids.add(m.messageId());
        }
        return ids;
    }

    @Test
    void confirmedThroughFollowsConfirmsInPositionOrderNotArrivalOrder() throws Exception {
        OutgoingMessage a = event("order.created");
        OutgoingMessage b = event("order.created");
        OutgoingMessage c = event("invoice.sent");
        assertThat(publish(a, b, c)).isEqualTo(2);
        FakeChannel ch = broker.current();
        assertThat(ch.sentIds()).isEqualTo(ids(a, b, c));

        ch.ack(3, false);
        assertThat(publisher.confirmedThrough())
                .as("the last is confirmed, the first two are not")
                .isEqualTo(-1);
        ch.ack(1, false);
        assertThat(publisher.confirmedThrough()).isEqualTo(0);
        ch.ack(2, false);
        assertThat(publisher.confirmedThrough()).isEqualTo(2);
        assertThat(metrics.unconfirmed().get()).isZero();
    }

    @Test
    void aNackInOneBatchWhileTheNextIsConfirmedHoldsThePositionAndOnlyThatRoutingKey() throws Exception {
        OutgoingMessage a = event("order.created");
        OutgoingMessage b = event("invoice.sent");
        publish(a, b);
        OutgoingMessage c = event("invoice.sent");
        publish(c);
        FakeChannel ch = broker.current();
        ch.nack(1);
        ch.ack(3, true);
        assertThat(publisher.confirmedThrough()).as("position 0 was nacked").isEqualTo(-1);
        assertThat(metrics.parked().get()).isEqualTo(1);

        // A later message of the parked key waits; one of another key goes out at once.
        OutgoingMessage d = event("order.created");
        OutgoingMessage e = event("invoice.sent");
        publish(d, e);
        assertThat(ch.sentIds()).isEqualTo(ids(a, b, c, e));

        // After the backoff the parked message goes out again, and the held one right behind it.
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            publisher.flush();
            return ch.sent.size() == 6;
        });
        assertThat(ch.sentIds().subList(4, 6)).isEqualTo(ids(a, d));
        ch.ack(6, true);
        assertThat(publisher.confirmedThrough()).isEqualTo(4);
        assertThat(metrics.parked().get()).isZero();
    }

    @Test
    void nacksWithoutAnAckInBetweenMoveThePublishingToANewChannel() throws Exception {
        OutgoingMessage a = event("order.created");
        publish(a);
        FakeChannel first = broker.current();
        // The same message nacked again and again on one channel: the channel, not the queue, may be what refuses.
        for (int i = 1; i <= ConfirmingPublisher.NACKS_BEFORE_NEW_CHANNEL; i++) {
            int sent = i;
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                publisher.flush();
                return first.sent.size() >= sent || broker.current() != first;
            });
            if (broker.current() != first) {
                break;
            }
            first.nack(i);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            publisher.flush();
            return broker.current() != first && broker.current().sent.size() == 1;
        });
        assertThat(broker.current().sentIds())
                .as("the parked message, on the new channel")
                .isEqualTo(ids(a));
        broker.current().ack(1, false);
        assertThat(publisher.confirmedThrough()).isZero();
        assertThat(metrics.parked().get()).isZero();
    }

    @Test
    void aChannelClosedMidRoundSendsItsUnconfirmedMessagesAgainInOrderBeforeAnythingLater() throws Exception {
        OutgoingMessage a = event("order.created");
        OutgoingMessage b = event("order.created");
        OutgoingMessage c = event("order.created");
        publish(a, b, c);
        FakeChannel first = broker.current();
        first.ack(1, false);
        first.closeBy(false, true, "CONNECTION_FORCED - broker forced connection closure");

        OutgoingMessage d = event("order.created");
        publish(d);
        FakeChannel second = broker.current();
        assertThat(second).isNotSameAs(first);
        assertThat(second.sentIds()).as("b and c again, before d").isEqualTo(ids(b, c, d));
        assertThat(metrics.republishedTotal()).isEqualTo(2);
        second.ack(3, true);
        assertThat(publisher.confirmedThrough()).isEqualTo(3);
    }

    @Test
    void aLateConfirmOnAReplacedChannelCountsForNothing() throws Exception {
        OutgoingMessage a = event("order.created");
        OutgoingMessage b = event("order.created");
        publish(a, b);
        FakeChannel old = broker.current();
        old.closeBy(false, false, "PRECONDITION_FAILED - something went wrong");
        publish();
        FakeChannel replacement = broker.current();
        assertThat(replacement.sentIds()).isEqualTo(ids(a, b));

        // The old channel's confirm of its sequence 2 arrives late; the new channel's 2 is b again, unconfirmed.
        old.ack(2, true);
        assertThat(publisher.confirmedThrough()).isEqualTo(-1);
        replacement.ack(2, true);
        assertThat(publisher.confirmedThrough()).isEqualTo(1);
    }

    @Test
    void confirmsThatDoNotComeInTimeSendTheMessagesAgainOnANewChannel() throws Exception {
        publisher.close();
        publisher = publisher(Map.of("RELAY_CONFIRM_TIMEOUT_MS", "200"));
        OutgoingMessage a = event("order.created");
        long last = publish(a);
        FakeChannel silent = broker.current();
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            publisher.flush();
            return broker.current() != silent && broker.current().sent.size() == 1;
        });
        broker.current().ack(1, false);
        publisher.awaitConfirmedThrough(last);
        assertThat(broker.current().sentIds()).isEqualTo(ids(a));
    }

    @Test
    void aMessageTheClientRefusesBecomesARelayErrorCopyInItsPlaceAndTheRestFlow() throws Exception {
        broker.clientRefuses = p -> p.exchange().equals("order") && p.header("poison") != null;
        OutgoingMessage a = event("order.created");
        OutgoingMessage poison = event("order.created", "{\"x\":1}", Map.of("poison", "yes"));
        OutgoingMessage c = event("order.created");
        publish(a, poison, c);

        FakeChannel second = broker.current();
        List<Published> out = second.sent;
        assertThat(out).extracting(Published::exchange).containsExactly("order", "DLX", "order");
        assertThat(out.get(1).messageId()).isEqualTo(poison.messageId());
        assertThat(out.get(1).header("dead-letter-reason")).isEqualTo("relay_error");
        assertThat(out.get(1).header("error").toString()).contains("Short string too long");
        assertThat(out.get(1).header("original-routing-key")).isEqualTo("order.created");
        assertThat(out.get(1).header("event-id")).isEqualTo(Long.toString(poison.eventId()));
        second.ack(3, true);
        assertThat(publisher.confirmedThrough()).isEqualTo(2);
        assertThat(metrics.scrape()).contains("relay_errors_total{reason=\"relay_error\"} 1.0");
    }

    @Test
    void headersAmqpCannotCarryAreSetAsideWithoutTouchingTheChannel() throws Exception {
        OutgoingMessage longName = event("order.created", "{}", Map.of("h".repeat(300), "v"));
        OutgoingMessage huge = event("order.created", "{}", Map.of("big", "x".repeat(200_000)));
        OutgoingMessage fine = event("order.created");
        publish(longName, huge, fine);
        FakeChannel ch = broker.current();
        assertThat(broker.channels.stream().filter(c -> c.confirms)).hasSize(1);
        assertThat(ch.sent).extracting(Published::exchange).containsExactly("DLX", "DLX", "order");
        assertThat(ch.sent.get(0).header("error").toString()).contains("header name of 300 bytes");
        assertThat(ch.sent.get(1).header("error").toString()).contains("do not fit in one AMQP frame");
        assertThat(ch.sent.get(1).props().getHeaders()).doesNotContainKey("big");
    }

    @Test
    void aMessageThatClosesTheChannelEachTimeIsFoundAndSetAsideWhileTheRestFlow() throws Exception {
        broker.autoAck = true;
        broker.closesChannel = p -> p.exchange().equals("order") && p.header("poison") != null;
        OutgoingMessage a = event("order.created");
        OutgoingMessage poison = event("order.created", "{}", Map.of("poison", "yes"));
        OutgoingMessage c = event("order.created");
        publish(a, poison, c);
        // The broker closed the channel twice without saying which message; one at a time, the third close names it.
        FakeChannel last = broker.current();
        assertThat(last.sent).extracting(Published::exchange).containsExactly("DLX", "order");
        assertThat(last.sent.get(0).messageId()).isEqualTo(poison.messageId());
        assertThat(last.sent.get(0).header("error").toString())
                .contains("closed the channel when it was published")
                .contains("PRECONDITION_FAILED - refused");
        assertThat(publisher.confirmedThrough()).isEqualTo(2);
        assertThat(broker.published)
                .extracting(Published::messageId)
                .as("a first-sight order per routing key")
                .containsSubsequence(a.messageId(), poison.messageId(), c.messageId());
    }

    @Test
    void theBrokersSizeLimitIsLearnedFromItsRefusalAndLargerBodiesGoToDlxWithoutThem() throws Exception {
        broker.autoAck = true;
        broker.closesChannel = p -> p.body().length > 4096;
        broker.closeReason = "PRECONDITION_FAILED - message size 5002 is larger than configured max size 4096";
        OutgoingMessage a = event("order.created");
        OutgoingMessage big = event("order.created", "\"" + "x".repeat(5000) + "\"", Map.of());
        OutgoingMessage c = event("order.created");
        publish(a, big, c);
        FakeChannel second = broker.current();
        assertThat(second.sent).extracting(Published::exchange).containsExactly("DLX", "order");
        assertThat(second.sent.get(0).body()).isEmpty();
        assertThat(second.sent.get(0).header("body-omitted-bytes")).isEqualTo("5002");
        assertThat(second.sent.get(0).header("error").toString()).contains("max_message_size (4096)");
        assertThat(publisher.confirmedThrough()).isEqualTo(2);

        // Learned: the next large event goes to DLX at once, without costing a channel.
        publish(event("order.created", "\"" + "y".repeat(5000) + "\"", Map.of()));
        assertThat(broker.current()).isSameAs(second);
        assertThat(second.sent.get(2).exchange()).isEqualTo("DLX");
    }

    @Test
    void aReturnedEventGoesToUnroutedBeforeItCountsAsConfirmed() throws Exception {
        OutgoingMessage a = event("nobody.created");
        publish(a);
        FakeChannel ch = broker.current();
        ch.giveBack(1);
        ch.ack(1, false);
        assertThat(publisher.confirmedThrough()).isEqualTo(-1);
        publish();
        assertThat(ch.sent.get(1).exchange()).isEqualTo("unrouted");
        assertThat(ch.sent.get(1).header("original-routing-key")).isEqualTo("nobody.created");
        ch.ack(2, false);
        assertThat(publisher.confirmedThrough()).isEqualTo(0);
    }

    @Test
    void aFullWindowMakesPublishWaitForConfirms() throws Exception {
        publisher.close();
        publisher = publisher(Map.of("RELAY_CONFIRM_WINDOW", "2"));
        OutgoingMessage a = event("order.created");
        OutgoingMessage b = event("order.created");
        OutgoingMessage c = event("order.created");
        Thread acker = new Thread(() -> {
            await().atMost(Duration.ofSeconds(5)).until(() -> broker.published.size() == 2);
            try {
                broker.current().ack(1, false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        acker.start();
        publish(a, b, c);
        acker.join();
        assertThat(broker.current().sentIds()).isEqualTo(ids(a, b, c));
    }
}
