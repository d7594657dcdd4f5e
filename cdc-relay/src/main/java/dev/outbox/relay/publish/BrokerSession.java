package dev.outbox.relay.publish;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.protocol.BrokerErrors;
import dev.outbox.protocol.Topology;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

/**
 * The publisher's connection to RabbitMQ: one confirm channel to publish on, one channel for
 * declarations (a refused declaration closes its channel, never the publishing one), and the
 * exchanges declared so far. It knows nothing of messages; what the publishing channel says
 * goes to the {@link Listener}, tagged with the channel's number so a replaced channel's late
 * words can be told apart.
 */
final class BrokerSession implements AutoCloseable {

    /** What the publishing channel reports, on the connection's thread. */
    interface Listener {
        void confirmed(long channel, long sequence, boolean multiple, boolean ack);

        void returned(long channel, String messageId);

        void closed(long channel, ShutdownSignalException cause);
    }

    /** Opens a connection; {@link BrokerConnector#connect} in the relay, a scripted fake in tests. */
    interface Connector {
        Connection connect(String name) throws IOException;
    }

    private final Connector connector;
    private final String endpoint;
    private final Set<String> declaredExchanges = new HashSet<>();
    private Connection connection;
    private Channel declareChannel;
    private Channel channel;
    private long channelNumber = -1;
    private boolean topologyDeclared;

    BrokerSession(Connector connector, String endpoint) {
        this.connector = connector;
        this.endpoint = endpoint;
    }

    /** Opens what is closed; returns the publishing channel, numbered {@code number} for the listener. */
    Channel open(long number, Listener listener) throws IOException {
        if (connection == null || !connection.isOpen()) {
            closeQuietly();
            connection = connector.connect("publisher");
            declaredExchanges.clear();
            topologyDeclared = false;
        }
        if (declareChannel == null || !declareChannel.isOpen()) {
            declareChannel = connection.createChannel();
        }
        if (!topologyDeclared) {
            ConfirmingPublisher.declareTopology(declareChannel, endpoint);
            topologyDeclared = true;
        }
        if (channel == null || !channel.isOpen() || channelNumber != number) {
            abortChannel();
            Channel opened = connection.createChannel();
            opened.confirmSelect();
            opened.addConfirmListener(
                    (seq, multiple) -> listener.confirmed(number, seq, multiple, true),
                    (seq, multiple) -> listener.confirmed(number, seq, multiple, false));
            opened.addReturnListener(
                    r -> listener.returned(number, r.getProperties().getMessageId()));
            opened.addShutdownListener(cause -> listener.closed(number, cause));
            channel = opened;
            channelNumber = number;
        }
        return channel;
    }

    boolean isConnected() {
        return connection != null && connection.isOpen();
    }

    /**
     * Declares {@code exchange} as an event exchange once per connection. Returns {@code null},
     * or why RabbitMQ refuses it (a reserved name, another type or other arguments): a refusal
     * that would come again for every message of that exchange.
     */
    String declareExchange(String exchange) throws IOException {
        if (declaredExchanges.contains(exchange)) {
            return null;
        }
        try {
            Topology.declareEventExchange(declareChannel, exchange);
            declaredExchanges.add(exchange);
            return null;
        } catch (IOException e) {
            if (e.getCause() instanceof ShutdownSignalException signal && !signal.isHardError()) {
                declareChannel = connection.createChannel();
                return "RabbitMQ refused to declare exchange '" + exchange + "': " + BrokerErrors.describe(signal);
            }
            throw e;
        }
    }

    /** Declares the exchanges and the unrouted and DLX topology again before their next use (someone deleted them). */
    void forgetDeclarations() {
        declaredExchanges.clear();
        topologyDeclared = false;
    }

    String endpoint() {
        return endpoint;
    }

    /** Closes the publishing channel at once; its unconfirmed messages are the caller's to publish again. */
    void abortChannel() {
        Channel c = channel;
        channel = null;
        if (c != null && c.isOpen()) {
            try {
                c.abort();
            } catch (Exception ignored) {
                // closing anyway
            }
        }
    }

    void closeQuietly() {
        abortChannel();
        declareChannel = null;
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.abort(2000);
            } catch (Exception ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public void close() {
        if (connection != null && connection.isOpen()) {
            try {
                connection.close(2000);
            } catch (IOException | RuntimeException ignored) {
                // closing anyway
            }
        }
        closeQuietly();
    }
}
