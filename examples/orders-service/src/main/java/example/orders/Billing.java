package example.orders;

import dev.outbox.sdk.RetryException;
import dev.outbox.spring.OutboxListener;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Bills each new order: writes its invoice in the same transaction as the inbox row, so a
 * redelivered event bills nothing twice. Customer {@code flaky} stands for a service that is
 * busy at the first try (retried); customer {@code poison} for an event no retry will fix
 * (dead-lettered at once, into the {@code dead_letters} table).
 */
@Component
class Billing {

    private static final Logger LOG = LoggerFactory.getLogger(Billing.class);
    private final Set<java.util.UUID> triedOnce = ConcurrentHashMap.newKeySet();

    @OutboxListener(patterns = "order.created", queue = "billing_orders")
    void bill(Map<String, Object> headers, Order order, Connection connection) throws Exception {
        if (order.customer().equals("flaky") && triedOnce.add(order.id())) {
            throw new RetryException("the payment service is busy", Duration.ofMillis(500));
        }
        if (order.customer().equals("poison")) {
            throw new IllegalArgumentException("customer 'poison' cannot be billed");
        }
        try (PreparedStatement ps = connection.prepareStatement("INSERT INTO invoices (order_id, cents) VALUES (?, ?)")) {
            ps.setObject(1, order.id());
            ps.setLong(2, order.cents());
            ps.executeUpdate();
        }
        LOG.info("Billed order {} of {}: {} cents", order.id(), order.customer(), order.cents());
    }
}
