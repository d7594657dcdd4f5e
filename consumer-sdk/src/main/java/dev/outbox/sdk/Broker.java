package dev.outbox.sdk;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.outbox.protocol.BrokerTls;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to RabbitMQ, shared by the publishers and subscribers of a process. It
 * recovers by itself after a network failure or a broker restart: connection, channels,
 * declared queues and bindings, and consumers; unacknowledged deliveries are redelivered by
 * the broker, so nothing in flight is lost. Thread-safe.
 */
public final class Broker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);

    private final BrokerConfig config;
    private final Connection connection;

    private Broker(BrokerConfig config, Connection connection) {
        this.config = config;
        this.connection = connection;
    }

    /** Connects, or throws with the broker's reason (wrong credentials are not retried). */
    public static Broker connect(BrokerConfig config) throws IOException {
        ConnectionFactory factory = new ConnectionFactory();
        try {
            BrokerTls.configure(factory, config.uri(), config.caFile());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("OUTBOX_RABBITMQ_CA_FILE is not usable: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("broker URI is not usable: " + e.getMessage(), e);
        }
        factory.setAutomaticRecoveryEnabled(true);
        factory.setTopologyRecoveryEnabled(true);
        factory.setNetworkRecoveryInterval(1000);
        factory.setRequestedHeartbeat(15);
        factory.setConnectionTimeout(10_000);
        List<Address> addresses = config.addresses().isEmpty()
                ? List.of(new Address(factory.getHost(), factory.getPort()))
                : config.addresses().stream().map(Address::parseAddress).toList();
        try {
            Connection connection = factory.newConnection(addresses, config.appId());
            LOG.info("Connected to RabbitMQ {}", config);
            return new Broker(config, connection);
        } catch (TimeoutException e) {
            throw new IOException("timed out connecting to RabbitMQ " + config, e);
        } catch (IOException e) {
            if (BrokerTls.isHandshakeFailure(e)) {
                throw new IOException(
                        "RabbitMQ " + config + " presented a certificate this client does not trust, or one"
                                + " for another host name: set OUTBOX_RABBITMQ_CA_FILE to the PEM of the CA that signed it (or add"
                                + " that CA to the JVM's trust store), and use the host name the certificate names",
                        e);
            }
            throw e;
        }
    }

    public BrokerConfig config() {
        return config;
    }

    public boolean isOpen() {
        return connection.isOpen();
    }

    /** A new channel on the shared connection (recovered with it); the caller closes it. */
    public Channel createChannel() throws IOException {
        Channel channel = connection.createChannel();
        if (channel == null) {
            throw new IOException("RabbitMQ refused a new channel (channel_max reached)");
        }
        return channel;
    }

    Connection connection() {
        return connection;
    }

    @Override
    public void close() {
        try {
            if (connection.isOpen()) {
                connection.close(5000);
            }
        } catch (IOException e) {
            connection.abort(1000);
        }
    }
}
