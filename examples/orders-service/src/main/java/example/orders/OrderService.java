package example.orders;

import dev.outbox.spring.OutboxPublisher;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

@Service
public class OrderService {

    private final JdbcTemplate jdbc;
    private final OutboxPublisher outbox;
    private final Credit credit;

    OrderService(JdbcTemplate jdbc, OutboxPublisher outbox, Credit credit) {
        this.jdbc = jdbc;
        this.outbox = outbox;
        this.credit = credit;
    }

    /** Saves the order and its {@code order.created} event in one transaction. */
    // README:publish
    @Transactional
    public Order place(String customer, long cents) {
        Order order = new Order(UUID.randomUUID(), customer, cents);
        jdbc.update("INSERT INTO orders (id, customer, cents) VALUES (?, ?, ?)", order.id(), customer, cents);
        outbox.publish("order.created", order); // commits or rolls back with the order
        credit.check(order); // throws over the limit: neither the order nor its event is kept
        return order;
    }
    // README:end
}
