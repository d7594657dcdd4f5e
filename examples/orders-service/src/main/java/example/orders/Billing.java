package example.orders;

import dev.outbox.sdk.RetryException;
import dev.outbox.spring.OutboxListener;
import java.sql.Connection;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * Bills each new order. The invoice is written in the same transaction as the inbox row, so a
 * redelivered event bills nothing twice; a busy payment service is retried; an order no retry
 * will fix is dead-lettered at once, into the {@code dead_letters} table.
 */
@Component
class Billing {

    private final Payments payments;
    private final Invoices invoices;

    Billing(Payments payments, Invoices invoices) {
        this.payments = payments;
        this.invoices = invoices;
    }

    // README:listen
    @OutboxListener(patterns = "order.created", queue = "billing_orders")
    void bill(Map<String, Object> headers, Order order, Connection connection) throws Exception {
        if (!payments.available(order)) throw new RetryException("payments busy"); // retried, then dead-lettered
        invoices.create(connection, order); // in the inbox's transaction: a redelivery bills nothing twice
    }
    // README:end
}
