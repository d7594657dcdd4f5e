package dev.outbox.spring;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.EventTracing;
import dev.outbox.protocol.OpenTelemetryTracing;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Publisher;
import dev.outbox.sdk.SubscriberMetrics;
import dev.outbox.sdk.metrics.MicrometerSubscriberMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Lazy;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * The outbox on the application's own {@code DataSource}: {@link OutboxPublisher}, the SDK's
 * {@link Broker} and {@link Publisher}, {@code @OutboxListener}s, the schema when
 * {@code outbox.migrate=true}, Micrometer metrics and OpenTelemetry traces when the application
 * has them. Every bean backs off when the application defines its own. Written against what
 * Spring Boot 3.5 and 4.0 share: the classes each names by string are the ones that moved.
 */
@AutoConfiguration(
        afterName = {
            "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration",
            "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration",
            "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
            "org.springframework.boot.actuate.autoconfigure.opentelemetry.OpenTelemetryAutoConfiguration",
            "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration"
        })
@ConditionalOnClass({DataSource.class, DataSourceUtils.class})
@ConditionalOnBean(DataSource.class)
@EnableConfigurationProperties(OutboxProperties.class)
public class OutboxAutoConfiguration {

    /** The outbox schema; migrated at start when {@code outbox.migrate=true}. */
    public static final class OutboxSchema {
        private OutboxSchema() {}
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxSchema outboxSchema(DataSource dataSource, OutboxProperties properties) {
        if (properties.migrate()) {
            String table = properties.table();
            int dot = table.indexOf('.');
            if (dot > 0) {
                Migrations.apply(dataSource, table.substring(0, dot));
            } else {
                Migrations.apply(dataSource);
            }
        }
        return new OutboxSchema();
    }

    @Bean
    @ConditionalOnMissingBean
    EventTracing outboxEventTracing() {
        return EventTracing.detect();
    }

    @Bean
    @ConditionalOnMissingBean
    Outbox outboxWriter(OutboxProperties properties, EventTracing tracing) {
        try {
            return Outbox.forTable(properties.table()).withTracing(tracing);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("outbox.table: " + e.getMessage(), e);
        }
    }

    /** Connected on first use: an application that only writes events starts without RabbitMQ. */
    @Bean(destroyMethod = "close")
    @Lazy
    @ConditionalOnMissingBean
    Broker outboxBroker(OutboxProperties properties, Environment environment) throws IOException {
        OutboxProperties.Rabbitmq rabbitmq = properties.rabbitmq();
        BrokerConfig config;
        try {
            config = BrokerConfig.of(rabbitmq.uri());
            if (!rabbitmq.addresses().isEmpty()) {
                config = config.withAddresses(rabbitmq.addresses());
            }
            String appId = rabbitmq.appId() != null
                    ? rabbitmq.appId()
                    : environment.getProperty("spring.application.name", config.appId());
            config = config.withAppId(appId);
            if (rabbitmq.caFile() != null) {
                config = config.withCaFile(rabbitmq.caFile());
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("outbox.rabbitmq: " + e.getMessage(), e);
        }
        return Broker.connect(config);
    }

    @Bean(destroyMethod = "close")
    @Lazy
    @ConditionalOnMissingBean
    Publisher outboxSdkPublisher(Broker broker, EventTracing tracing) {
        return new Publisher(broker, tracing);
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxPublisher outboxPublisher(
            DataSource dataSource,
            Outbox outbox,
            ObjectProvider<Publisher> publisher,
            OutboxProperties properties,
            ObjectProvider<PublishMetrics> metrics,
            OutboxSchema schema) {
        return new OutboxPublisher(
                dataSource,
                outbox,
                publisher::getObject,
                properties.publish().outsideTransaction(),
                metrics.getIfAvailable(() -> PublishMetrics.NONE));
    }

    @Bean
    static ListenerMethods outboxListenerMethods() {
        return new ListenerMethods();
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxListeners outboxListeners(
            ListenerMethods methods,
            ObjectProvider<Broker> broker,
            DataSource dataSource,
            OutboxProperties properties,
            ObjectProvider<SubscriberMetrics> metrics,
            EventTracing tracing,
            Environment environment,
            OutboxSchema schema) {
        return new OutboxListeners(
                methods,
                broker,
                dataSource,
                properties.listener(),
                metrics.getIfAvailable(() -> SubscriberMetrics.NONE),
                tracing,
                environment);
    }

    /** Traces through the application's OpenTelemetry (its SDK, or Micrometer Tracing's OTel bridge). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.opentelemetry.api.OpenTelemetry")
    static class OpenTelemetryTracingConfiguration {
        @Bean
        @ConditionalOnBean(OpenTelemetry.class)
        @ConditionalOnMissingBean
        EventTracing outboxOpenTelemetryTracing(OpenTelemetry openTelemetry) {
            return OpenTelemetryTracing.of(openTelemetry);
        }
    }

    /** Publish and consume metrics in the application's MeterRegistry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
    @ConditionalOnBean(MeterRegistry.class)
    static class MetricsConfiguration {
        @Bean
        @ConditionalOnMissingBean
        SubscriberMetrics outboxSubscriberMetrics(MeterRegistry registry) {
            return new MicrometerSubscriberMetrics(registry);
        }

        @Bean
        @ConditionalOnMissingBean
        PublishMetrics outboxPublishMetrics(MeterRegistry registry) {
            return new MicrometerPublishMetrics(registry);
        }
    }
}
