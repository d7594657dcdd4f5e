package dev.outbox.protocol;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;

/**
 * Says what RabbitMQ answered: the amqp-client wraps a channel or connection error in an
 * IOException without a message, so logs would read "IOException: null".
 */
public final class BrokerErrors {

    /** AMQP reply code of access-refused (a missing permission). */
    public static final int ACCESS_REFUSED = 403;

    private BrokerErrors() {}

    /** The broker's reply code and text when there is one, else the exception's class and message. */
    public static String describe(Throwable error) {
        ShutdownSignalException signal = signal(error);
        if (signal != null) {
            Object reason = signal.getReason();
            if (reason instanceof AMQP.Channel.Close close) {
                return close.getReplyCode() + " " + close.getReplyText();
            }
            if (reason instanceof AMQP.Connection.Close close) {
                return close.getReplyCode() + " " + close.getReplyText();
            }
        }
        return error.getClass().getSimpleName() + ": " + error.getMessage();
    }

    /** The broker's reply code, or 0 when the failure did not come from the broker. */
    public static int replyCode(Throwable error) {
        ShutdownSignalException signal = signal(error);
        if (signal != null) {
            Object reason = signal.getReason();
            if (reason instanceof AMQP.Channel.Close close) {
                return close.getReplyCode();
            }
            if (reason instanceof AMQP.Connection.Close close) {
                return close.getReplyCode();
            }
        }
        return 0;
    }

    private static ShutdownSignalException signal(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException s) {
                return s;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }
}
