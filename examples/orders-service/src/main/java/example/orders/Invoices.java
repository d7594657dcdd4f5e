package example.orders;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.springframework.stereotype.Component;

/** Writes invoices on the listener's connection, in the transaction that records the message in the inbox. */
@Component
class Invoices {

    void create(Connection connection, Order order) throws SQLException {
        if (order.customer().equals("poison")) {
            throw new IllegalArgumentException("customer 'poison' cannot be billed");
        }
        try (PreparedStatement ps =
                connection.prepareStatement("INSERT INTO invoices (order_id, cents) VALUES (?, ?)")) {
            ps.setObject(1, order.id());
            ps.setLong(2, order.cents());
            ps.executeUpdate();
        }
    }
}
