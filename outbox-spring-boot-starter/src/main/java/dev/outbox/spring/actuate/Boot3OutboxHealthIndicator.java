package dev.outbox.spring.actuate;

import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/** The {@code outbox} health contributor under Spring Boot 3's Actuator. */
public final class Boot3OutboxHealthIndicator implements HealthIndicator {

    private final OutboxHealth health;

    Boot3OutboxHealthIndicator(OutboxHealth health) {
        this.health = health;
    }

    @Override
    public Health health() {
        OutboxHealth.Result r = health.check();
        return (r.up() ? Health.up() : Health.down()).withDetails(r.details()).build();
    }
}
