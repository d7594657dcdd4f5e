package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.spring.actuate.OutboxHealth;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import example.orders.OrdersTestApp;
import example.orders.OrdersTestApp.Order;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.IllegalTransactionStateException;

/**
 * A real Spring Boot application context with the starter, on its own database and virtual
 * host, with the relay jar running beside it: the way a user runs it. The same test runs under
 * Boot 3.5 (this module) and Boot 4.0 (module spring-boot4-it).
 */
@SpringBootTest(classes = OrdersTestApp.class)
class OutboxStarterIT {

    private static final TestDatabase DB = PostgresFixture.get().createDatabase("spring_starter");
    private static final TestVhost VHOST = RabbitFixture.get().newVirtualHost("spring-starter");
    private static final String EXCHANGE = "shop" + UUID.randomUUID().toString().substring(0, 8);
    private static RelayProcess relay;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", DB::url);
        registry.add("spring.datasource.username", DB::user);
        registry.add("spring.datasource.password", () -> DB.password() == null ? "" : DB.password());
        registry.add("spring.application.name", () -> "orders-test");
        registry.add("outbox.migrate", () -> "true");
        registry.add("outbox.rabbitmq.uri", VHOST::uri);
        registry.add("outbox.listener.max-retries", () -> "3");
        registry.add("test.exchange", () -> EXCHANGE);
        registry.add("test.queue", () -> EXCHANGE + "_billing");
    }

    @Autowired
    OrdersTestApp.Orders orders;

    @Autowired
    OrdersTestApp.Billing billing;

    @Autowired
    OutboxPublisher outbox;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    OpenTelemetrySdk otel;

    @Autowired
    MeterRegistry meters;

    @Autowired
    io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter spans;

    @Autowired
    ApplicationContext context;

    @BeforeEach
    void relay() throws Exception {
        if (relay == null) {
            Map<String, String> env = RelayEnv.forTest(DB, RabbitFixture.get());
            env.put("RELAY_RABBITMQ_URI", VHOST.uri());
            env.put(
                    "RELAY_CAPTURE_DEAD_LETTERS",
                    "true"); // its own virtual host: the dead_letters queue is this test's
            relay = RelayProcess.start(env, "spring-starter").awaitReady();
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try {
            if (relay != null) {
                relay.close();
            }
        } finally {
            VHOST.close();
            DB.close();
        }
    }

    @Test
    void anOrderPlacedInATransactionReachesTheListenerInTheWritersTrace() {
        Order order = new Order("o-" + UUID.randomUUID(), "acme", 1250);
        Span request = otel.getTracer("test").spanBuilder("POST /orders").startSpan();
        try (Scope ignored = request.makeCurrent()) {
            orders.place(order, EXCHANGE + ".created");
        } finally {
            request.end();
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> billing.received.stream().anyMatch(r -> r.order().equals(order)));
        assertThat(billing.received)
                .filteredOn(r -> r.order().equals(order))
                .singleElement()
                .extracting(OrdersTestApp.Received::traceId)
                .isEqualTo(request.getSpanContext().getTraceId());
        await("the handler's span, recorded by the application's OpenTelemetry")
                .atMost(Duration.ofSeconds(10))
                .until(() -> spans.getFinishedSpanItems().stream()
                        .anyMatch(s -> s.getName().equals(EXCHANGE + "_billing process")
                                && s.getTraceId()
                                        .equals(request.getSpanContext().getTraceId())
                                && s.getParentSpanId()
                                        .equals(request.getSpanContext().getSpanId())));
        await().atMost(Duration.ofSeconds(30))
                .until(() ->
                        jdbc.queryForObject("SELECT count(*) FROM ledger WHERE order_id = ?", Long.class, order.id())
                                == 1);
        assertThat(meters.get("outbox.events.written")
                        .tag("exchange", EXCHANGE)
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> meters.get("outbox.consumer.messages")
                                .tag("queue", EXCHANGE + "_billing")
                                .tag("outcome", "handled")
                                .counter()
                                .count()
                        >= 1);
    }

    @Test
    void theOutboxSchemaIsMigratedBesideTheApplicationsFlywayEachWithItsOwnHistory() {
        assertThat(jdbc.queryForList("SELECT version FROM flyway_schema_history WHERE success", String.class))
                .containsExactly("1");
        assertThat(jdbc.queryForList("SELECT version FROM outbox_schema_history WHERE success", String.class))
                .contains("1", "10")
                .doesNotContainNull();
    }

    @Test
    void aRolledBackOrderPublishesNothing() {
        long before = jdbc.queryForObject("SELECT count(*) FROM events", Long.class);
        Order order = new Order("o-" + UUID.randomUUID(), "acme", 99);
        assertThatThrownBy(() -> orders.placeThenFail(order, EXCHANGE + ".created"))
                .hasMessage("payment declined");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM events", Long.class))
                .isEqualTo(before);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM orders WHERE id = ?", Long.class, order.id()))
                .isZero();
    }

    @Test
    void publishingOutsideATransactionIsRefusedWithWhatToDo() {
        assertThatThrownBy(() -> outbox.publish(EXCHANGE + ".created", Map.of("id", "x")))
                .isInstanceOf(IllegalTransactionStateException.class)
                .hasMessageContaining("outside a transaction")
                .hasMessageContaining("@Transactional")
                .hasMessageContaining("outbox.publish.outside-transaction=own-transaction");
    }

    @Test
    void publishingInAReadOnlyTransactionIsRefusedAndWritesNothing() {
        long before = jdbc.queryForObject("SELECT count(*) FROM events", Long.class);
        org.springframework.transaction.support.TransactionTemplate readOnly =
                new org.springframework.transaction.support.TransactionTemplate(
                        context.getBean(org.springframework.transaction.PlatformTransactionManager.class));
        readOnly.setReadOnly(true);
        assertThatThrownBy(() -> readOnly.executeWithoutResult(
                        status -> outbox.publish(EXCHANGE + ".created", Map.of("id", "read-only"))))
                .isInstanceOf(IllegalTransactionStateException.class)
                .hasMessageContaining("read-only transaction");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM events", Long.class))
                .isEqualTo(before);
    }

    @Test
    void aTransientFailureIsRetriedAndAPoisonOneEndsInDeadLetters() {
        Order flaky = new Order("o-" + UUID.randomUUID(), "flaky", 1);
        Order poison = new Order("o-" + UUID.randomUUID(), "poison", 2);
        orders.place(flaky, EXCHANGE + ".created");
        orders.place(poison, EXCHANGE + ".created");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> billing.received.stream().anyMatch(r -> r.order().equals(flaky)));
        assertThat(billing.attempts).filteredOn(flaky.id()::equals).hasSize(2);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> jdbc.queryForObject(
                                "SELECT count(*) FROM dead_letters WHERE reason = 'rejected' AND queue = ?"
                                        + " AND convert_from(body, 'UTF8') LIKE ?",
                                Long.class,
                                EXCHANGE + "_billing",
                                "%" + poison.id() + "%")
                        == 1);
    }

    @Test
    void aBodyThatDoesNotBindIsDeadLetteredAndTheNextOrderStillArrives() {
        String marker = "unbindable-" + UUID.randomUUID();
        outbox.send(EXCHANGE + ".created", Map.of("id", marker, "customer", Map.of("not", "a name"), "cents", "many"));
        Order next = new Order("o-" + UUID.randomUUID(), "acme", 3);
        orders.place(next, EXCHANGE + ".created");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> billing.received.stream().anyMatch(r -> r.order().equals(next)));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> jdbc.queryForObject(
                                "SELECT count(*) FROM dead_letters WHERE reason = 'rejected' AND queue = ?"
                                        + " AND last_error LIKE '%does not bind%' AND convert_from(body, 'UTF8') LIKE ?",
                                Long.class, EXCHANGE + "_billing", "%" + marker + "%")
                        == 1);
    }

    @Test
    void sendPublishesWithoutATransaction() {
        String id = "o-" + UUID.randomUUID();
        outbox.send(EXCHANGE + ".created", new Order(id, "direct", 5));
        await().atMost(Duration.ofSeconds(30))
                .until(() ->
                        billing.received.stream().anyMatch(r -> r.order().id().equals(id)));
        assertThat(meters.get("outbox.messages.sent")
                        .tag("exchange", EXCHANGE)
                        .tag("outcome", "confirmed")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void healthShowsTheBrokerAndEachListenerRunning() throws Exception {
        OutboxHealth.Result health = context.getBean(OutboxHealth.class).check();
        assertThat(health.up()).isTrue();
        assertThat(health.details().toString())
                .contains(EXCHANGE + "_billing")
                .contains("RUNNING")
                .contains("connected");
        Object indicator = context.getBean("outboxHealthIndicator");
        assertThat(indicator.getClass().getSimpleName())
                .isEqualTo(System.getProperty("outbox.expected-health-indicator", "Boot3OutboxHealthIndicator"));
        Object reported = indicator.getClass().getMethod("health").invoke(indicator);
        assertThat(reported.toString()).contains("UP");
    }
}
