package example.orders;

import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

@RestController
class OrderController {

    record NewOrder(String customer, long cents) {}

    private final OrderService orders;
    private final JdbcTemplate jdbc;

    OrderController(OrderService orders, JdbcTemplate jdbc) {
        this.orders = orders;
        this.jdbc = jdbc;
    }

    @PostMapping("/orders")
    ResponseEntity<Order> place(@RequestBody NewOrder request) {
        return ResponseEntity.status(HttpStatus.CREATED).body(orders.place(request.customer(), request.cents()));
    }

    /** The order and, once billing handled its event, its invoice. */
    @GetMapping("/orders/{id}")
    Map<String, Object> get(@PathVariable java.util.UUID id) {
        return jdbc.queryForMap(
                "SELECT o.id, o.customer, o.cents, i.cents IS NOT NULL AS invoiced"
                        + " FROM orders o LEFT JOIN invoices i ON i.order_id = o.id WHERE o.id = ?",
                id);
    }

    @ExceptionHandler(Credit.LimitExceeded.class)
    ResponseEntity<Map<String, String>> refused(Credit.LimitExceeded e) {
        return ResponseEntity.unprocessableEntity().body(Map.of("error", e.getMessage()));
    }
}
