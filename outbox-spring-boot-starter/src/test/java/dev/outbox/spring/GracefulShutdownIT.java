package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import example.slow.SlowApp;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Closing the application lets a running handler finish, and its message is acknowledged, not redelivered. */
class GracefulShutdownIT {

    @Test
    void closingTheContextWaitsForTheRunningHandlerAndAcknowledgesItsMessage() throws Exception {
        String exchange = "slow" + UUID.randomUUID().toString().substring(0, 8);
        String queue = exchange + "_work";
        try (TestDatabase db = PostgresFixture.get().createDatabase("spring_shutdown");
                TestVhost vhost = RabbitFixture.get().newVirtualHost("spring-shutdown")) {
            ConfigurableApplicationContext context = new SpringApplicationBuilder(SlowApp.class)
                    .properties(Map.of(
                            "spring.datasource.url",
                            db.url(),
                            "spring.datasource.username",
                            db.user(),
                            "spring.datasource.password",
                            db.password() == null ? "" : db.password(),
                            "outbox.rabbitmq.uri",
                            vhost.uri(),
                            "test.exchange",
                            exchange,
                            "test.queue",
                            queue))
                    .run();
            try {
                context.getBean(OutboxPublisher.class).send(exchange + ".slow", Map.of("n", 1));
                assertThat(SlowApp.SlowListener.STARTED.await(30, TimeUnit.SECONDS))
                        .as("handler started")
                        .isTrue();
                CompletableFuture<Void> closing = CompletableFuture.runAsync(context::close);
                await("close waits for the running handler")
                        .during(Duration.ofMillis(500))
                        .atMost(Duration.ofSeconds(5))
                        .until(() -> !closing.isDone());
                SlowApp.SlowListener.RELEASE.countDown();
                closing.get(30, TimeUnit.SECONDS);
                assertThat(SlowApp.SlowListener.FINISHED.get()).isEqualTo(1);
            } finally {
                SlowApp.SlowListener.RELEASE.countDown();
                context.close();
            }
            assertThat(messagesIn(vhost, queue))
                    .as("acknowledged: nothing left to redeliver")
                    .isZero();
        }
    }

    private static long messagesIn(TestVhost vhost, String queue) throws Exception {
        try (var connection = RabbitFixture.connectionFactory(vhost.uri()).newConnection();
                var channel = connection.createChannel()) {
            return channel.queueDeclarePassive(queue).getMessageCount();
        }
    }
}
