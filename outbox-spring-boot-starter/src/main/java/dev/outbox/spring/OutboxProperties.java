package dev.outbox.spring;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code outbox.*} settings, validated when the application starts: a bad value stops it
 * with a message that names the property.
 *
 * @param migrate apply the outbox schema (events, dead_letters, inbox...) at start, with its own
 *     Flyway history table {@code outbox_schema_history}, beside the application's Flyway
 * @param table the events table, {@code [schema.]name}
 * @param rabbitmq the broker the listeners and {@code send} use
 * @param publish how {@code OutboxPublisher.publish} behaves
 * @param listener defaults of every {@code @OutboxListener}; its attributes override them
 */
@ConfigurationProperties("outbox")
public record OutboxProperties(
        @DefaultValue("false") boolean migrate,
        @DefaultValue("events") String table,
        @DefaultValue Rabbitmq rabbitmq,
        @DefaultValue Publish publish,
        @DefaultValue Listener listener) {

    /**
     * @param uri AMQP URI with credentials and virtual host
     * @param addresses host:port of each cluster node, tried in turn (the URI's host when empty)
     * @param appId the AMQP app-id of messages sent from here; the application's name when unset
     * @param caFile PEM file of the CA that signed the broker's certificate, for amqps
     */
    public record Rabbitmq(
            @DefaultValue("amqp://guest:guest@localhost:5672/%2F")
            String uri,

            @DefaultValue List<String> addresses,
            String appId,
            Path caFile) {}

    /**
     * @param outsideTransaction what {@code publish} does when no Spring transaction is active:
     *     {@code fail} (an entity saved without its event is the bug the outbox exists to
     *     prevent) or {@code own-transaction} (write the event in a transaction of its own)
     */
    public record Publish(@DefaultValue("fail") OutsideTransaction outsideTransaction) {}

    /** What {@code publish} does outside a transaction. */
    public enum OutsideTransaction {
        FAIL,
        OWN_TRANSACTION
    }

    /**
     * @param autoStartup start the listeners with the application context
     * @param prefetch unacknowledged messages per consumer
     * @param concurrency consumers per listener
     * @param maxRetries times a message is handed back after a RetryException before it is dead-lettered
     * @param backoff delay before the first retry
     * @param backoffMultiplier factor between one retry's delay and the next
     * @param maxBackoff longest delay between retries
     * @param deliveryLimit deliveries of one message (quorum queues) before RabbitMQ dead-letters it
     * @param closeTimeout how long shutdown waits for running handlers
     */
    public record Listener(
            @DefaultValue("true") boolean autoStartup,
            @DefaultValue("50") int prefetch,
            @DefaultValue("1") int concurrency,
            @DefaultValue("5") int maxRetries,
            @DefaultValue("1s") Duration backoff,
            @DefaultValue("2.0") double backoffMultiplier,
            @DefaultValue("1h") Duration maxBackoff,
            @DefaultValue("20") int deliveryLimit,
            @DefaultValue("30s") Duration closeTimeout) {}
}
