package dev.outbox.spring.actuate;

import dev.outbox.spring.OutboxAutoConfiguration;
import dev.outbox.spring.OutboxListeners;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code outbox} health contributor, for whichever Actuator the application has: Boot 3's
 * {@code org.springframework.boot.actuate.health} or Boot 4's {@code org.springframework.boot.health.contributor}.
 */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnBean(OutboxListeners.class)
public class OutboxHealthAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    OutboxHealth outboxHealth(OutboxListeners listeners, ListableBeanFactory beans) {
        return new OutboxHealth(listeners, beans);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
    static class Boot3 {
        @Bean
        @ConditionalOnMissingBean(name = "outboxHealthIndicator")
        Boot3OutboxHealthIndicator outboxHealthIndicator(OutboxHealth health) {
            return new Boot3OutboxHealthIndicator(health);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class Boot4 {
        @Bean
        @ConditionalOnMissingBean(name = "outboxHealthIndicator")
        Boot4OutboxHealthIndicator outboxHealthIndicator(OutboxHealth health) {
            return new Boot4OutboxHealthIndicator(health);
        }
    }
}
