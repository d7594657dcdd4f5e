package dev.outbox.spring.actuate;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** The {@code outbox} health contributor under Spring Boot 4's Actuator. */
public final class Boot4OutboxHealthIndicator implements HealthIndicator {

    private final OutboxHealth health;

    Boot4OutboxHealthIndicator(OutboxHealth health) {
        this.health = health;
    }

    @Override
    public Health health() {
        OutboxHealth.Result r = health.check();
        return (r.up() ? Health.up() : Health.down()).withDetails(r.details()).build();
    }
}
