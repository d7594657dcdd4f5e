package example.orders;

import dev.outbox.spring.OutboxPublisher;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

@Service
public class OrderService {

    /** Orders above this are refused after they were saved: the rollback takes the event with them. */
    static final long CREDIT_LIMIT_CENTS = 1_000_000;

    private final JdbcTemplate jdbc;
    private final OutboxPublisher outbox;

    OrderService(JdbcTemplate jdbc, OutboxPublisher outbox) {
        this.jdbc = jdbc;
        this.outbox = outbox;
    }

    /** Saves the order and its {@code order.created} event in one transaction. */
    @Transactional
    public Order place(String customer, long cents) {
        Order order = new Order(UUID.randomUUID(), customer, cents);
        jdbc.update("INSERT INTO orders (id, customer, cents) VALUES (?, ?, ?)", order.id(), customer, cents);
        outbox.publish("order.created", order);
        if (cents > CREDIT_LIMIT_CENTS) {
            throw new CreditLimitExceeded(customer, cents);
        }
        return order;
    }

    public static final class CreditLimitExceeded extends RuntimeException {
        CreditLimitExceeded(String customer, long cents) {
            super(customer + " cannot order " + cents + " cents: over the credit limit of " + CREDIT_LIMIT_CENTS);
        }
    }
}
