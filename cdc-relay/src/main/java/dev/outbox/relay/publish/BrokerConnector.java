package dev.outbox.relay.publish;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import dev.outbox.protocol.BrokerTls;
import dev.outbox.relay.config.EnvironmentException;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.config.Setting;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * Opens connections to RabbitMQ from the relay's configuration: the URI's credentials,
 * virtual host and TLS, and either its host or the cluster address list. Automatic recovery
 * is off: the publisher reconnects itself, because it must know which confirms were lost.
 */
public final class BrokerConnector {

    private final RelayConfig config;
    private final ConnectionFactory factory;
    private final List<Address> addresses;

    public BrokerConnector(RelayConfig config) {
        this.config = config;
        this.factory = new ConnectionFactory();
        try {
            BrokerTls.configure(factory, config.rabbitUri().reveal(), config.rabbitCaFile());
        } catch (Exception e) {
            throw new EnvironmentException(Setting.RABBITMQ_URI.variable() + " is not usable: "
                    + e.getClass().getSimpleName());
        }
        factory.setAutomaticRecoveryEnabled(false);
        factory.setTopologyRecoveryEnabled(false);
        factory.setConnectionTimeout(10_000);
        // Short heartbeats: a paused or partitioned relay notices a dead connection within ~30 s.
        factory.setRequestedHeartbeat(15);
        factory.setClientProperties(new java.util.HashMap<>(factory.getClientProperties()));
        this.addresses = config.rabbitAddresses().isEmpty()
                ? List.of(new Address(factory.getHost(), factory.getPort()))
                : config.rabbitAddresses().stream()
                        .map(a -> Address.parseAddress(a))
                        .toList();
    }

    /**
     * A new connection named {@code name}. Wrong credentials are a {@link EnvironmentException}
     * (permanent); everything else is an {@link IOException} the caller may retry.
     */
    public Connection connect(String name) throws IOException {
        try {
            return factory.newConnection(addresses, config.appId() + "-" + name);
        } catch (PossibleAuthenticationFailureException e) {
            throw new EnvironmentException(
                    "RabbitMQ at " + config.rabbitEndpoint() + " refused the credentials in "
                            + Setting.RABBITMQ_URI.variable() + " ("
                            + e.getClass().getSimpleName() + "). Fix the user and"
                            + " password there; the relay does not retry wrong credentials.",
                    e);
        } catch (TimeoutException e) {
            throw new IOException("timed out connecting to RabbitMQ at " + config.rabbitEndpoint(), e);
        } catch (IOException e) {
            if (BrokerTls.isHandshakeFailure(e)) {
                throw new EnvironmentException(
                        "RabbitMQ at " + config.rabbitEndpoint() + " presented a TLS certificate the"
                                + " relay does not trust, or one that does not name that host (" + rootMessage(e)
                                + "). Set "
                                + Setting.RABBITMQ_CA_FILE.variable()
                                + " to the PEM of the CA that signed it (or add that CA to the"
                                + " JVM's trust store), and use a host name the certificate names in "
                                + Setting.RABBITMQ_URI.variable() + ".",
                        e);
            }
            throw e;
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }

    public String endpoint() {
        return config.rabbitEndpoint();
    }
}
