package example.orders;

import org.springframework.stereotype.Component;

/** The credit check, after the order was saved: a refusal rolls the order and its event back. */
@Component
public class Credit {

    static final long LIMIT_CENTS = 1_000_000;

    public static final class LimitExceeded extends RuntimeException {
        LimitExceeded(Order order) {
            super(order.customer() + " cannot order " + order.cents() + " cents: over the credit limit of "
                    + LIMIT_CENTS);
        }
    }

    void check(Order order) {
        if (order.cents() > LIMIT_CENTS) {
            throw new LimitExceeded(order);
        }
    }
}
