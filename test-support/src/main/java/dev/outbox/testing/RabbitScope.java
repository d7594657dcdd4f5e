package dev.outbox.testing;

import java.util.ArrayList;
import java.util.List;

/** Queues and exchanges one test created; {@link #close()} deletes them even when the test failed. */
public final class RabbitScope implements AutoCloseable {

    private final RabbitFixture broker;
    private final List<String> queues = new ArrayList<>();
    private final List<String> exchanges = new ArrayList<>();

    RabbitScope(RabbitFixture broker) {
        this.broker = broker;
    }

    /** A unique queue name that is deleted on close. */
    public synchronized String queue(String prefix) {
        String name = RabbitFixture.uniqueName(prefix);
        queues.add(name);
        return name;
    }

    /** A unique exchange name (letters, digits, - and _ only) that is deleted on close. */
    public synchronized String exchange(String prefix) {
        String name = RabbitFixture.uniqueName(prefix);
        exchanges.add(name);
        return name;
    }

    /** Deletes {@code name} on close too (created by the code under test). */
    public synchronized void ownQueue(String name) {
        queues.add(name);
    }

    public synchronized void ownExchange(String name) {
        exchanges.add(name);
    }

    @Override
    public synchronized void close() {
        // One channel per delete: a failed delete closes its channel, and the rest must still go.
        for (String q : queues) {
            deleteQuietly(channel -> channel.queueDelete(q));
        }
        for (String x : exchanges) {
            deleteQuietly(channel -> channel.exchangeDelete(x));
        }
    }

    private void deleteQuietly(RabbitFixture.ChannelAction delete) {
        try {
            broker.withChannel(delete);
        } catch (RuntimeException alreadyGone) {
            // nothing left to clean
        }
    }
}
