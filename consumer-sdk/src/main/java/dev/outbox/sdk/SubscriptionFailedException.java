package dev.outbox.sdk;

import java.io.IOException;

/**
 * A subscription stopped for good: RabbitMQ refused, in a way asking again would not change,
 * to let it consume again (a missing permission, its queue declared by someone else with other
 * arguments). Its messages wait in the queue; the cause says what was refused.
 */
public final class SubscriptionFailedException extends IOException {

    public SubscriptionFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
