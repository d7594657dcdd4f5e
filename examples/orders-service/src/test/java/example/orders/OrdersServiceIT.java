package example.orders;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The README's walk-through, against the real services and the relay jar: an order placed over
 * HTTP is billed by the listener, a busy payment service is retried, a poison order ends in
 * dead_letters (and {@code dead-letters list} shows it), and a refused order publishes nothing.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class OrdersServiceIT {

    private static final TestDatabase DB = PostgresFixture.get().createDatabase("orders_example");
    private static final TestVhost VHOST = RabbitFixture.get().newVirtualHost("orders-example");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Map<String, String> relayEnv;
    private static RelayProcess relay;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", DB::url);
        registry.add("spring.datasource.username", DB::user);
        registry.add("spring.datasource.password", () -> DB.password() == null ? "" : DB.password());
        registry.add("outbox.rabbitmq.uri", VHOST::uri);
    }

    @LocalServerPort
    int port;

    @Autowired
    JdbcTemplate jdbc;

    @BeforeAll
    static void env() {
        relayEnv = RelayEnv.forTest(DB, RabbitFixture.get());
        relayEnv.put("RELAY_RABBITMQ_URI", VHOST.uri());
        relayEnv.put("RELAY_CAPTURE_DEAD_LETTERS", "true"); // this test's own virtual host
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

    /** The relay starts once the application has migrated the schema, as in the README. */
    private void relay() throws Exception {
        if (relay == null) {
            relay = RelayProcess.start(relayEnv, "orders-example").awaitReady();
        }
    }

    private HttpResponse<String> post(String customer, long cents) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"customer\": \"" + customer + "\", \"cents\": " + cents + "}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String id(HttpResponse<String> created) {
        return created.body().replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
    }

    private boolean invoiced(String orderId) {
        return jdbc.queryForObject("SELECT count(*) FROM invoices WHERE order_id = ?::uuid", Long.class, orderId) == 1;
    }

    @Test
    void anOrderPlacedOverHttpIsBilledAndABusyPaymentServiceIsRetried() throws Exception {
        relay();
        HttpResponse<String> acme = post("acme", 1250);
        HttpResponse<String> flaky = post("flaky", 300);
        assertThat(acme.statusCode()).isEqualTo(201);
        assertThat(flaky.statusCode()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(30)).until(() -> invoiced(id(acme)) && invoiced(id(flaky)));
    }

    @Test
    void aPoisonOrderEndsInDeadLettersAndTheRelayCliListsIt() throws Exception {
        relay();
        HttpResponse<String> poison = post("poison", 700);
        assertThat(poison.statusCode()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> jdbc.queryForObject(
                                "SELECT count(*) FROM dead_letters WHERE queue = 'billing_orders' AND reason = 'rejected'"
                                        + " AND convert_from(body, 'UTF8') LIKE ?",
                                Long.class,
                                "%" + id(poison) + "%")
                        == 1);
        try (RelayProcess list = RelayProcess.start(relayEnv, "orders-example-list", "dead-letters", "list")) {
            assertThat(list.awaitExit(Duration.ofSeconds(60))).isZero();
            assertThat(list.output()).contains("billing_orders").contains("rejected");
        }
        assertThat(invoiced(id(poison))).isFalse();
    }

    @Test
    void aRefusedOrderPublishesNothing() throws Exception {
        long events = jdbc.queryForObject("SELECT count(*) FROM events", Long.class);
        HttpResponse<String> refused = post("acme", Credit.LIMIT_CENTS + 1);
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).contains("over the credit limit");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM events", Long.class))
                .isEqualTo(events);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM orders WHERE cents > ?", Long.class, Credit.LIMIT_CENTS))
                .isZero();
    }

    @Test
    void theMainReadmesSpringBlocksAreThisApplicationsCode() throws Exception {
        String readme = Files.readString(Path.of("..", "..", "README.md"));
        String spring = readme.substring(readme.indexOf("## With Spring Boot"), readme.indexOf("## Without Spring"));
        List<String> blocks = new ArrayList<>();
        Matcher block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(spring);
        while (block.find()) {
            blocks.add(block.group(1).strip());
        }
        assertThat(blocks)
                .as("the README's Spring blocks: publish, listen")
                .containsExactly(region("OrderService.java", "publish"), region("Billing.java", "listen"));
    }

    private static String region(String file, String name) throws Exception {
        Matcher region = Pattern.compile("// README:" + name + "\\n(.*?)\\n\\s*// README:end", Pattern.DOTALL)
                .matcher(Files.readString(Path.of("src", "main", "java", "example", "orders", file)));
        assertThat(region.find()).as("region " + name + " in " + file).isTrue();
        return region.group(1).stripIndent().strip();
    }

    @Test
    void healthShowsTheListenerRunning() throws Exception {
        HttpResponse<String> health = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body())
                .contains("\"outbox\"")
                .contains("billing_orders")
                .contains("RUNNING");
    }
}
