package dev.outbox.spring;

import dev.outbox.db.AppendedEvent;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.sdk.Publisher;
import java.sql.Connection;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.IllegalTransactionStateException;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Publishes events from application code. {@link #publish} writes the {@code events} row on the
 * connection of the current Spring transaction, so the entity and its event commit or roll back
 * together and the relay sends the event once, and only once, the transaction commits.
 * {@link #send} publishes straight to RabbitMQ without a transaction, for events that need not
 * be atomic with a database change.
 *
 * <pre>{@code
 * @Transactional
 * public Order place(NewOrder request) {
 *     Order order = orders.save(Order.from(request));
 *     outbox.publish("order.created", order);
 *     return order;
 * }
 * }</pre>
 */
public final class OutboxPublisher {

    private final DataSource dataSource;
    private final Outbox outbox;
    private final java.util.function.Supplier<Publisher> publisher; // connects to RabbitMQ on the first send
    private final OutboxProperties.OutsideTransaction outsideTransaction;
    private final PublishMetrics metrics;

    OutboxPublisher(
            DataSource dataSource,
            Outbox outbox,
            java.util.function.Supplier<Publisher> publisher,
            OutboxProperties.OutsideTransaction outsideTransaction,
            PublishMetrics metrics) {
        this.dataSource = dataSource;
        this.outbox = outbox;
        this.publisher = publisher;
        this.outsideTransaction = outsideTransaction;
        this.metrics = metrics;
    }

    /**
     * Writes {@code payload} (a JsonNode, JSON text, or any object Jackson serialises) as an event
     * with {@code routingKey} in the current transaction.
     *
     * @throws IllegalTransactionStateException outside a transaction (unless
     *     {@code outbox.publish.outside-transaction=own-transaction}) or in a read-only one
     * @throws dev.outbox.protocol.InvalidEventException for a bad routing key, payload or headers
     */
    public AppendedEvent publish(String routingKey, Object payload) {
        return publish(OutboxEvent.of(routingKey, payload));
    }

    /** Writes {@code event} (headers, aggregate, message id as given) in the current transaction. */
    public AppendedEvent publish(OutboxEvent event) {
        Objects.requireNonNull(event, "event");
        return write("'" + event.routingKey() + "'", List.of(event), c -> outbox.append(c, event));
    }

    /** Writes all {@code events}, in order, in the current transaction, with one statement. */
    public List<AppendedEvent> publishAll(List<OutboxEvent> events) {
        if (events.isEmpty()) {
            return List.of();
        }
        return write(
                events.size() + " events (first '" + events.get(0).routingKey() + "')",
                events,
                c -> outbox.appendAll(c, events));
    }

    /**
     * Publishes {@code payload} with {@code routingKey} straight to RabbitMQ and waits for the
     * broker's confirm; no transaction involved. Returns the message id.
     *
     * @throws dev.outbox.sdk.PublishException when the broker did not confirm it
     */
    public String send(String routingKey, Object payload) {
        return send(OutboxEvent.of(routingKey, payload));
    }

    /** As {@link #send(String, Object)}, for a whole {@link OutboxEvent}. */
    public String send(OutboxEvent event) {
        long started = System.nanoTime();
        try {
            String id = publisher.get().send(event);
            metrics.sent(event.routingKey(), true, System.nanoTime() - started);
            return id;
        } catch (RuntimeException e) {
            metrics.sent(event.routingKey(), false, System.nanoTime() - started);
            throw e;
        }
    }

    private interface Write<T> {
        T on(Connection connection);
    }

    private <T> T write(String what, List<OutboxEvent> events, Write<T> write) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            if (outsideTransaction == OutboxProperties.OutsideTransaction.OWN_TRANSACTION) {
                T written = outbox.inTransaction(dataSource, write::on);
                countWritten(events);
                return written;
            }
            throw new IllegalTransactionStateException("outbox.publish of " + what
                    + " was called outside a transaction, so the event would not commit or roll back with"
                    + " your data: call it from a @Transactional method (or inside a TransactionTemplate), or"
                    + " set outbox.publish.outside-transaction=own-transaction to write it in a transaction"
                    + " of its own");
        }
        if (TransactionSynchronizationManager.isCurrentTransactionReadOnly()) {
            throw new IllegalTransactionStateException("outbox.publish of " + what
                    + " was called in a read-only transaction: publish from a transaction that writes");
        }
        Connection connection = DataSourceUtils.getConnection(dataSource);
        T written;
        try {
            written = write.on(connection);
        } finally {
            DataSourceUtils.releaseConnection(connection, dataSource);
        }
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    countWritten(events);
                }
            });
        }
        return written;
    }

    private void countWritten(List<OutboxEvent> events) {
        for (OutboxEvent e : events) {
            metrics.written(e.routingKey(), 1);
        }
    }
}
