package dev.outbox.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.outbox.db.Migrations;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriptionOptions;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Messages per second of one Subscriber (prefetch 50): with a handler that only returns (ack),
 * and with the transactional inbox. The queue is filled first, so the figure is the consumer's
 * own rate. Args: messages [20000].
 */
public final class ConsumeBenchmark {

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        try (TestDatabase db = PostgresFixture.get().createDatabase("bench_consume");
                TestVhost vhost = RabbitFixture.get().newVirtualHost("bench-consume");
                Broker broker = Broker.connect(BrokerConfig.of(vhost.uri()))) {
            Migrations.apply(db.dataSource());
            for (boolean inbox : new boolean[] {false, true}) {
                double rate = rate(db, vhost, broker, n, inbox);
                Figures.report(
                        "consume",
                        String.format(
                                "one Subscriber, prefetch 50, %s: %.0f messages/s (%d messages)",
                                inbox ? "transactional inbox" : "ack only", rate, n));
            }
        }
        System.exit(0);
    }

    /** Messages/s of one Subscriber (prefetch 50) on a queue filled with {@code n} messages beforehand. */
    static double rate(TestDatabase db, TestVhost vhost, Broker broker, int n, boolean inbox) throws Exception {
        String queue = inbox ? "bench_inbox" : "bench_ack";
        CountDownLatch done = new CountDownLatch(n);
        Subscriber declare = new Subscriber(broker, "bench.x", SubscriptionOptions.queue(queue), queue);
        declare.start((h, b) -> {});
        declare.close();
        fill(vhost, n);
        try (Subscriber s = new Subscriber(
                broker, "bench.x", SubscriptionOptions.queue(queue).prefetch(50), queue)) {
            long start = System.nanoTime();
            if (inbox) {
                s.startTransactional(db.dataSource(), (h, body, c) -> done.countDown());
            } else {
                s.start((h, body) -> done.countDown());
            }
            if (!done.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("consumer did not finish");
            }
            return n / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** Publishes n persistent messages to exchange bench with async confirms. */
    private static void fill(TestVhost vhost, int n) throws Exception {
        try (Connection c = RabbitFixture.connectionFactory(vhost.uri()).newConnection("bench-fill");
                Channel ch = c.createChannel()) {
            ch.confirmSelect();
            byte[] body = Figures.ORDER_PAYLOAD.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < n; i++) {
                ch.basicPublish(
                        "bench",
                        "bench.x",
                        new AMQP.BasicProperties.Builder()
                                .deliveryMode(2)
                                .contentType("application/json")
                                .messageId(UUID.randomUUID().toString())
                                .build(),
                        body);
                if (i % 1000 == 999) {
                    ch.waitForConfirmsOrDie(60_000);
                }
            }
            ch.waitForConfirmsOrDie(60_000);
        }
    }
}
