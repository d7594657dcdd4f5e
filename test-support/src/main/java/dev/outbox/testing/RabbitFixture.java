package dev.outbox.testing;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * The RabbitMQ every integration test uses: the one at {@code OUTBOX_TEST_RABBITMQ_URI}
 * (default {@code amqp://guest:guest@127.0.0.1:5672/%2F}); where none answers and a Docker
 * engine does, a Testcontainers RabbitMQ. Tests name their exchanges and queues with
 * {@link #uniqueName} and delete them through a {@link RabbitScope}.
 */
public final class RabbitFixture {

    private static final Logger LOG = LoggerFactory.getLogger(RabbitFixture.class);
    private static volatile RabbitFixture instance;

    private final String uri;

    private RabbitFixture(String uri) {
        this.uri = uri;
    }

    public static RabbitFixture get() {
        RabbitFixture result = instance;
        if (result == null) {
            synchronized (RabbitFixture.class) {
                result = instance;
                if (result == null) {
                    result = locate();
                    instance = result;
                }
            }
        }
        return result;
    }

    private static RabbitFixture locate() {
        String uri = PostgresFixture.env("OUTBOX_TEST_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672/%2F");
        RabbitFixture configured = new RabbitFixture(uri);
        Exception failure;
        try (Connection ignored = configured.connectionFactory().newConnection("fixture-probe")) {
            return configured;
        } catch (Exception e) {
            failure = e;
        }
        if (DockerClientFactory.instance().isDockerAvailable()) {
            LOG.info("No RabbitMQ at {} ({}); starting one with Testcontainers", uri, failure.getMessage());
            RabbitMQContainer container = new RabbitMQContainer("rabbitmq:3.13-management");
            container.start();
            return new RabbitFixture(container.getAmqpUrl());
        }
        throw new IllegalStateException(
                "No RabbitMQ answers at " + uri + " (" + failure.getMessage()
                        + ") and no Docker engine is available. Run scripts/local-services, or set OUTBOX_TEST_RABBITMQ_URI.",
                failure);
    }

    /** The AMQP URI tests pass to the code under test. */
    public String uri() {
        return uri;
    }

    /** A new factory for this broker (automatic recovery off: tests choose what they test). */
    public ConnectionFactory connectionFactory() {
        try {
            ConnectionFactory factory = new ConnectionFactory();
            factory.setUri(uri);
            factory.setAutomaticRecoveryEnabled(false);
            factory.setConnectionTimeout(5000);
            return factory;
        } catch (Exception e) {
            throw new IllegalStateException("bad OUTBOX_TEST_RABBITMQ_URI " + uri + ": " + e.getMessage(), e);
        }
    }

    /** A scope whose queues and exchanges are deleted when it closes. */
    public RabbitScope scope() {
        return new RabbitScope(this);
    }

    /** A virtual host for one test (needs rabbitmqctl on this machine); delete it with close(). */
    public TestVhost newVirtualHost(String prefix) {
        return TestVhost.create(this, prefix);
    }

    /** A factory for {@code uri} (e.g. a test's own virtual host). */
    public static ConnectionFactory connectionFactory(String uri) {
        try {
            ConnectionFactory factory = new ConnectionFactory();
            factory.setUri(uri);
            factory.setAutomaticRecoveryEnabled(false);
            return factory;
        } catch (Exception e) {
            throw new IllegalStateException("bad AMQP URI: " + e.getMessage(), e);
        }
    }

    /** A name no other test run uses: {@code prefix-xxxxxx}, in lower case. */
    public static String uniqueName(String prefix) {
        return prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]+", "-") + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50), 36);
    }

    /** Runs {@code action} on a fresh channel of a fresh connection, then closes both. */
    public void withChannel(ChannelAction action) {
        try (Connection connection = connectionFactory().newConnection("fixture");
                Channel channel = connection.createChannel()) {
            action.run(channel);
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Something done with a channel. */
    @FunctionalInterface
    public interface ChannelAction {
        void run(Channel channel) throws Exception;
    }
}
