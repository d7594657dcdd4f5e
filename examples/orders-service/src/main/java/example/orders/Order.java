package example.orders;

import java.util.UUID;

/** An order, and the body of its {@code order.created} event. */
public record Order(UUID id, String customer, long cents) {}
