package dev.outbox.sdk;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.outbox.db.Migrations;
import dev.outbox.sdk.deadletter.DeadLetterCapture;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;

/**
 * One test class's world: its own database (migrated), its own RabbitMQ virtual host (so DLX,
 * dead_letters and unrouted are its own), a Broker on it and a running dead-letter capture.
 */
final class SdkEnvironment implements AutoCloseable {

    final TestDatabase db;
    final TestVhost vhost;
    final Broker broker;
    final DeadLetterCapture capture;

    SdkEnvironment(String name) throws Exception {
        db = PostgresFixture.get().createDatabase(name);
        Migrations.apply(db.dataSource());
        vhost = RabbitFixture.get().newVirtualHost(name);
        broker = Broker.connect(BrokerConfig.of(vhost.uri()).withAppId("it-" + vhost.name()));
        capture = new DeadLetterCapture(broker, db.dataSource());
        capture.start();
    }

    Broker newBroker(String appId) throws Exception {
        return Broker.connect(BrokerConfig.of(vhost.uri()).withAppId(appId));
    }

    com.rabbitmq.client.ConnectionFactory connectionFactory() {
        return RabbitFixture.connectionFactory(vhost.uri());
    }

    /** Publishes raw bytes as someone else would: no SDK, any properties. */
    void publishRaw(String exchange, String routingKey, com.rabbitmq.client.AMQP.BasicProperties props, byte[] body)
            throws Exception {
        try (Connection c = connectionFactory().newConnection("raw");
                Channel ch = c.createChannel()) {
            ch.confirmSelect();
            ch.basicPublish(exchange, routingKey, props, body);
            ch.waitForConfirmsOrDie(10_000);
        }
    }

    long deadLetters(String where) {
        return db.queryLong("SELECT count(*) FROM dead_letters WHERE " + where);
    }

    @Override
    public void close() {
        try {
            capture.close();
            broker.close();
        } finally {
            try {
                vhost.close();
            } finally {
                db.close();
            }
        }
    }
}
