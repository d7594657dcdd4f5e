package dev.outbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NamingTest {

    @Test
    void uniqueNamesDifferAndAreSafeForAmqp() {
        String a = RabbitFixture.uniqueName("Order Events!");
        String b = RabbitFixture.uniqueName("Order Events!");
        assertThat(a).isNotEqualTo(b).matches("order-events--[a-z0-9]+");
    }
}
