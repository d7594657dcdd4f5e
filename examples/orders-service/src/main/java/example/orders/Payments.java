package example.orders;

import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/** A stand-in payment service: busy at the first try for customer {@code flaky}. */
@Component
class Payments {

    private final Set<UUID> askedOnce = ConcurrentHashMap.newKeySet();

    boolean available(Order order) {
        return !order.customer().equals("flaky") || !askedOnce.add(order.id());
    }
}
