package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.EventTracing;
import dev.outbox.protocol.OpenTelemetryTracing;
import dev.outbox.sdk.Broker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;

/** The auto-configuration's rules, in application contexts that need no running service. */
class OutboxAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
            .withBean(
                    DataSource.class,
                    () -> new SimpleDriverDataSource(new org.postgresql.Driver(), "jdbc:postgresql://127.0.0.1:1/none"))
            .withPropertyValues("outbox.listener.auto-startup=false");

    @Test
    void anApplicationWithADataSourceGetsThePublisherAndNoBrokerConnectionUntilItSends() {
        runner.run(context -> {
            assertThat(context).hasSingleBean(OutboxPublisher.class).hasSingleBean(OutboxListeners.class);
            assertThat(context.getBeanFactory().containsSingleton("outboxBroker"))
                    .as("the broker is connected on first use")
                    .isFalse();
        });
    }

    @Test
    void withoutADataSourceNothingIsConfigured() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
                .run(context -> assertThat(context).doesNotHaveBean(OutboxPublisher.class));
    }

    @Test
    void anOutboxTheApplicationDefinesReplacesTheStartersOwn() {
        Outbox own = Outbox.forTable("billing.events");
        runner.withBean(Outbox.class, () -> own)
                .run(context -> assertThat(context.getBean(Outbox.class)).isSameAs(own));
    }

    @Test
    void aBadTableNameStopsTheStartNamingTheProperty() {
        runner.withPropertyValues("outbox.table=events; DROP TABLE x")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("[schema.]name")
                        .satisfies(e -> assertThat(stackMessages(context.getStartupFailure()))
                                .contains("outbox.table")));
    }

    @Test
    void aListenerMethodWithAnotherSignatureStopsTheStartSayingWhichAreAccepted() {
        runner.withUserConfiguration(BadListener.class)
                .run(context -> assertThat(stackMessages(context.getStartupFailure()))
                        .contains("BadListener.handle")
                        .contains("(Map<String, Object> headers, JsonNode body)"));
    }

    @Test
    void aBadListenerSettingStopsTheStartNamingTheListenerAndTheSetting() {
        runner.withUserConfiguration(GoodListener.class)
                .withPropertyValues("outbox.listener.auto-startup=true", "outbox.listener.prefetch=0")
                .run(context -> assertThat(stackMessages(context.getStartupFailure()))
                        .contains("GoodListener.handle")
                        .contains("outbox.listener")
                        .contains("prefetch"));
    }

    @Test
    void twoListenersOnOneQueueStopTheStart() {
        runner.withUserConfiguration(GoodListener.class, SameQueueListener.class)
                .withPropertyValues("outbox.listener.auto-startup=true")
                .run(context -> assertThat(stackMessages(context.getStartupFailure()))
                        .contains("both consume queue 'unit_orders'"));
    }

    @Test
    void anUnresolvedPlaceholderInAListenerStopsTheStartNamingIt() {
        runner.withUserConfiguration(PlaceholderListener.class)
                .withPropertyValues("outbox.listener.auto-startup=true")
                .run(context -> assertThat(stackMessages(context.getStartupFailure()))
                        .contains("PlaceholderListener.handle")
                        .contains("${missing.queue}"));
    }

    @Test
    void theApplicationsOpenTelemetryTracesEventsAndMicrometerCountsThem() {
        runner.withBean(OpenTelemetry.class, OpenTelemetry::noop)
                .withBean(SimpleMeterRegistry.class, SimpleMeterRegistry::new)
                .run(context -> {
                    assertThat(context.getBean(EventTracing.class)).isInstanceOf(OpenTelemetryTracing.class);
                    assertThat(context).hasSingleBean(MicrometerPublishMetrics.class);
                    assertThat(context).hasBean("outboxSubscriberMetrics");
                });
    }

    @Test
    void withoutMicrometerOpenTelemetryOrActuatorThePublisherAndListenersAreThereAlone() {
        runner.withConfiguration(AutoConfigurations.of(dev.outbox.spring.actuate.OutboxHealthAutoConfiguration.class))
                .withClassLoader(new org.springframework.boot.test.context.FilteredClassLoader(
                        "io.micrometer",
                        "io.opentelemetry",
                        "org.springframework.boot.actuate",
                        "org.springframework.boot.health"))
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(OutboxPublisher.class);
                    assertThat(context).doesNotHaveBean(PublishMetrics.class).doesNotHaveBean("outboxHealthIndicator");
                });
    }

    @Test
    void withActuatorTheOutboxHealthIndicatorIsThere() {
        runner.withConfiguration(AutoConfigurations.of(dev.outbox.spring.actuate.OutboxHealthAutoConfiguration.class))
                .run(context -> assertThat(context).hasBean("outboxHealthIndicator"));
    }

    @Test
    void theBrokerSettingsAreCheckedWhenItConnects() {
        runner.withPropertyValues("outbox.rabbitmq.uri=http://not-amqp").run(context -> {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> context.getBean(Broker.class))
                    .satisfies(e -> assertThat(stackMessages(e)).contains("outbox.rabbitmq"));
        });
    }

    private static String stackMessages(Throwable t) {
        StringBuilder s = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            s.append(c.getMessage()).append('\n');
        }
        return s.toString();
    }

    @Configuration(proxyBeanMethods = false)
    static class BadListener {
        @Bean
        Object badListenerBean() {
            return new BadListener();
        }

        @OutboxListener(patterns = "order.created", queue = "unit_orders")
        void handle(String body) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class GoodListener {
        @OutboxListener(patterns = "order.created", queue = "unit_orders")
        void handle(Map<String, Object> headers, JsonNode body) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class SameQueueListener {
        @OutboxListener(patterns = "order.updated", queue = "unit_orders")
        void handle(Map<String, Object> headers, JsonNode body) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class PlaceholderListener {
        @OutboxListener(patterns = "order.created", queue = "${missing.queue}")
        void handle(Map<String, Object> headers, JsonNode body) {}
    }
}
