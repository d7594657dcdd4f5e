package dev.outbox.relay.publish;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmCallback;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ReturnCallback;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQImpl;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A scripted stand-in for RabbitMQ's connection and channels: it records what is published
 * and lets a test say what the broker answers (confirm, nack, return, close), on the test's
 * thread, in the order the test chooses.
 */
final class ScriptedBroker {

    /** One basic.publish as the broker saw it. */
    record Published(
            FakeChannel channel,
            long sequence,
            String exchange,
            String routingKey,
            AMQP.BasicProperties props,
            byte[] body) {
        String messageId() {
            return props.getMessageId();
        }

        Object header(String name) {
            return props.getHeaders() == null ? null : props.getHeaders().get(name);
        }
    }

    final List<FakeChannel> channels = new CopyOnWriteArrayList<>();
    final List<Published> published = new CopyOnWriteArrayList<>();
    /** basicPublish throws this for messages it matches (the client refusing one message). */
    Predicate<Published> clientRefuses = p -> false;
    /** The broker closes the channel when it gets a message this matches, with this reason. */
    Predicate<Published> closesChannel = p -> false;

    String closeReason = "PRECONDITION_FAILED - refused";
    /** The broker confirms every other message as soon as it has it. */
    boolean autoAck;

    int frameMax = 131_072;
    private boolean connectionOpen;

    Connection connect(String name) {
        connectionOpen = true;
        return (Connection) Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {Connection.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "createChannel" -> {
                        FakeChannel c = new FakeChannel((Connection) proxy);
                        channels.add(c);
                        yield c.proxy;
                    }
                    case "isOpen" -> connectionOpen;
                    case "getFrameMax" -> frameMax;
                    case "abort", "close" -> {
                        connectionOpen = false;
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> null;
                });
    }

    /** The publishing channel: the last one that had confirms selected. */
    FakeChannel current() {
        for (int i = channels.size() - 1; i >= 0; i--) {
            if (channels.get(i).confirms) {
                return channels.get(i);
            }
        }
        throw new AssertionError("no confirm channel opened");
    }

    /** Routing keys (or exchange for copies) of what was published, in order. */
    List<String> messageIds() {
        List<String> ids = new ArrayList<>();
        for (Published p : published) {
            ids.add(p.messageId());
        }
        return ids;
    }

    final class FakeChannel {
        final Channel proxy;
        final Connection connection;
        final List<Published> sent = new ArrayList<>();
        boolean confirms;
        boolean open = true;
        long nextSequence;
        ConfirmCallback ack;
        ConfirmCallback nack;
        ReturnCallback onReturn;
        final List<ShutdownListener> shutdown = new ArrayList<>();

        FakeChannel(Connection connection) {
            this.connection = connection;
            this.proxy = (Channel) Proxy.newProxyInstance(
                    getClass().getClassLoader(),
                    new Class<?>[] {Channel.class},
                    (p, method, args) -> switch (method.getName()) {
                        case "confirmSelect" -> {
                            confirms = true;
                            nextSequence = 1;
                            yield null;
                        }
                        case "getNextPublishSeqNo" -> nextSequence;
                        case "addConfirmListener" -> {
                            ack = (ConfirmCallback) args[0];
                            nack = (ConfirmCallback) args[1];
                            yield null;
                        }
                        case "addReturnListener" -> {
                            onReturn = (ReturnCallback) args[0];
                            yield null;
                        }
                        case "addShutdownListener" -> {
                            shutdown.add((ShutdownListener) args[0]);
                            yield null;
                        }
                        case "basicPublish" -> {
                            publish((String) args[0], (String) args[1], (AMQP.BasicProperties) args[3], (byte[])
                                    args[4]);
                            yield null;
                        }
                        case "isOpen" -> open && connectionOpen;
                        case "abort", "close" -> {
                            closeBy(true, false, "closed by the application");
                            yield null;
                        }
                        case "getConnection" -> connection;
                        case "hashCode" -> System.identityHashCode(p);
                        case "equals" -> p == args[0];
                        default -> null; // declarations succeed
                    });
        }

        private void publish(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
            if (!open) {
                throw new com.rabbitmq.client.AlreadyClosedException(signal(false, false, "channel closed"));
            }
            Published p = new Published(this, nextSequence, exchange, routingKey, props, body);
            nextSequence++; // as the real client: counted before the message is encoded
            if (clientRefuses.test(p)) {
                throw new IllegalArgumentException("Short string too long; utf-8 encoded length = 300, max = 255.");
            }
            sent.add(p);
            published.add(p);
            if (closesChannel.test(p)) {
                closeBy(false, false, closeReason);
            } else if (autoAck) {
                try {
                    ack(p.sequence(), false);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }

        void ack(long sequence, boolean multiple) throws Exception {
            ack.handle(sequence, multiple);
        }

        void nack(long sequence) throws Exception {
            nack.handle(sequence, false);
        }

        /** The broker returns the message published as {@code sequence} (no route). */
        void giveBack(long sequence) {
            Published p = sent.stream()
                    .filter(s -> s.sequence() == sequence)
                    .findFirst()
                    .orElseThrow();
            onReturn.handle(new Return(312, "NO_ROUTE", p.exchange(), p.routingKey(), p.props(), p.body()));
        }

        /** The broker closes this channel ({@code hard}: the whole connection). */
        void closeBy(boolean application, boolean hard, String reason) {
            if (!open) {
                return;
            }
            open = false;
            if (hard) {
                connectionOpen = false;
            }
            ShutdownSignalException cause = signal(hard, application, reason);
            for (ShutdownListener l : shutdown) {
                l.shutdownCompleted(cause);
            }
        }

        List<String> sentIds() {
            List<String> ids = new ArrayList<>();
            for (Published p : sent) {
                ids.add(p.messageId());
            }
            return ids;
        }
    }

    static ShutdownSignalException signal(boolean hard, boolean application, String reason) {
        AMQImpl.Channel.Close close = new AMQImpl.Channel.Close(406, reason, 60, 40);
        return new ShutdownSignalException(hard, application, close, null);
    }
}
