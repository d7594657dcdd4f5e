package dev.outbox.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.protocol.OutgoingMessage;
import dev.outbox.protocol.WireFormat;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.BrokerConnector;
import dev.outbox.relay.publish.ConfirmingPublisher;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Publisher;
import dev.outbox.testing.RabbitFixture;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Confirmed publishes per second of the relay's own messages (same body, properties and
 * headers, persistent, mandatory) into {@link BenchQueue}'s shape, three ways: the plain
 * amqp-client at its best (asynchronous confirms, a window of outstanding confirms), the
 * SDK's {@link Publisher}, and the relay's {@link ConfirmingPublisher} on batches as the
 * relay hands them over. The time runs from the first publish to the last confirm.
 */
final class BrokerLimit {

    private BrokerLimit() {}

    static OutgoingMessage message(long id) {
        return new OutgoingMessage(
                UUID.randomUUID().toString(),
                BenchQueue.EXCHANGE + ".created",
                Figures.ORDER_PAYLOAD.getBytes(StandardCharsets.UTF_8),
                Map.of("tenant", "acme"),
                id,
                "order",
                "o-" + id,
                Instant.now());
    }

    /** The plain client: one channel, confirms handled by a listener, at most {@code window} outstanding. */
    static double plainClient(String uri, int n, int window) throws Exception {
        List<OutgoingMessage> messages = messages(n);
        try (Connection c = RabbitFixture.connectionFactory(uri).newConnection("bench-plain");
                Channel ch = c.createChannel()) {
            ch.confirmSelect();
            Semaphore permits = new Semaphore(window);
            NavigableMap<Long, Boolean> outstanding = new ConcurrentSkipListMap<>();
            AtomicLong nacks = new AtomicLong();
            ch.addConfirmListener(
                    (seq, multiple) -> release(outstanding, permits, seq, multiple),
                    (seq, multiple) -> nacks.addAndGet(release(outstanding, permits, seq, multiple)));
            long start = System.nanoTime();
            for (OutgoingMessage m : messages) {
                permits.acquire();
                outstanding.put(ch.getNextPublishSeqNo(), Boolean.TRUE);
                ch.basicPublish(m.exchange(), m.routingKey(), true, WireFormat.properties(m, "bench"), m.body());
            }
            if (!permits.tryAcquire(window, 5, TimeUnit.MINUTES)) {
                throw new IllegalStateException("confirms missing: " + outstanding.size());
            }
            double rate = n / ((System.nanoTime() - start) / 1e9);
            if (nacks.get() > 0) {
                throw new IllegalStateException(nacks.get() + " nacks in the plain-client run");
            }
            return rate;
        }
    }

    /**
     * The broker's own latency floor: the plain client publishing the relay's messages at a fixed
     * {@code rate} for {@code seconds} (asynchronous confirms, paced from one thread), each
     * message's latency from its publish call returning to its arrival at {@code deliveries}' consumer.
     */
    static SteadyLoad.Result plainClientAtRate(String uri, Deliveries deliveries, int rate, int seconds)
            throws Exception {
        try (Connection c = RabbitFixture.connectionFactory(uri).newConnection("bench-plain-paced");
                Channel ch = c.createChannel()) {
            ch.confirmSelect();
            deliveries.reset();
            long begin = System.nanoTime();
            Pace pace = new Pace(begin, rate, seconds, SteadyLoad.WARMUP_SECONDS);
            long sent = 0;
            for (int due = pace.next(Integer.MAX_VALUE); due > 0; due = pace.next(Integer.MAX_VALUE)) {
                boolean counting = pace.counting();
                for (int i = 0; i < due; i++) {
                    OutgoingMessage m = message(sent + 1);
                    if (counting) {
                        deliveries.expect(m.messageId());
                    }
                    ch.basicPublish(m.exchange(), m.routingKey(), true, WireFormat.properties(m, "bench"), m.body());
                    if (counting) {
                        deliveries.committed(m.messageId(), System.nanoTime());
                    }
                    sent++;
                }
            }
            ch.waitForConfirmsOrDie(TimeUnit.MINUTES.toMillis(1));
            double sentRate = sent / ((System.nanoTime() - begin) / 1e9);
            try {
                Deliveries.await(
                        () -> deliveries.missing() == 0, 60, TimeUnit.SECONDS, "the paced plain-client messages");
            } catch (IllegalStateException stillMissing) {
                // reported as lost
            }
            return SteadyLoad.Result.of(rate, sentRate, deliveries.reset(), deliveries.missing());
        }
    }

    private static int release(NavigableMap<Long, Boolean> outstanding, Semaphore permits, long seq, boolean multiple) {
        Map<Long, Boolean> done = multiple ? outstanding.headMap(seq, true) : outstanding.subMap(seq, true, seq, true);
        int count = done.size();
        done.clear();
        permits.release(count);
        return count;
    }

    /** The SDK's Publisher.send from {@code threads} threads sharing one Publisher (it waits for each confirm). */
    static double sdkPublisher(String uri, int n, int threads) throws Exception {
        try (Broker broker = Broker.connect(BrokerConfig.of(uri));
                Publisher publisher = new Publisher(broker)) {
            publisher.send(OutboxEvent.builder(BenchQueue.EXCHANGE + ".created")
                    .payload(Figures.ORDER_PAYLOAD)
                    .build());
            List<Thread> workers = new ArrayList<>();
            long start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                Thread w = new Thread(() -> {
                    for (int i = 0; i < n / threads; i++) {
                        publisher.send(OutboxEvent.builder(BenchQueue.EXCHANGE + ".created")
                                .payload(Figures.ORDER_PAYLOAD)
                                .header("tenant", "acme")
                                .aggregate("order", "o-" + i)
                                .build());
                    }
                });
                w.start();
                workers.add(w);
            }
            for (Thread w : workers) {
                w.join();
            }
            return (n / threads * threads) / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The relay's publisher on batches of {@code batchSize}, each handed over as soon as the last is out, as the relay does. */
    static double relayPublisher(String uri, int n, int batchSize) throws Exception {
        RelayConfig config = RelayConfig.from(Map.of("RELAY_RABBITMQ_URI", uri, "RELAY_APP_ID", "bench"));
        List<OutgoingMessage> messages = messages(n);
        try (ConfirmingPublisher publisher =
                new ConfirmingPublisher(new BrokerConnector(config), config, new RelayMetrics())) {
            publisher.publishAll(List.of(message(0)));
            long start = System.nanoTime();
            long last = -1;
            for (int from = 0; from < n; from += batchSize) {
                last = publisher.publish(messages.subList(from, Math.min(n, from + batchSize)), null);
            }
            publisher.awaitConfirmedThrough(last);
            return n / ((System.nanoTime() - start) / 1e9);
        }
    }

    private static List<OutgoingMessage> messages(int n) {
        List<OutgoingMessage> messages = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
            messages.add(message(i));
        }
        return messages;
    }
}
