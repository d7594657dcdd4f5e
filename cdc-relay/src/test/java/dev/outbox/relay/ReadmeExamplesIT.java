package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Publisher;
import dev.outbox.sdk.RetryException;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriptionOptions;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's three examples without Spring, as written, against the real services: the regions marked
 * {@code README:} below are the README's Java blocks, in order (the first test compares them),
 * and the second runs them with a relay, so an example that stops compiling or working fails here.
 */
class ReadmeExamplesIT {

    private static final Path README = Path.of("..", "README.md");
    private static final Path SOURCE =
            Path.of("src", "test", "java", "dev", "outbox", "relay", "ReadmeExamplesIT.java");

    /** What the README's order serialises to: {"id": 42, "customer": "acme"}. */
    record Order(long id, String customer) {}

    /** The README's stand-in for a billing service: not ready the first time it is asked. */
    static final class Invoices {
        private final AtomicBoolean askedOnce = new AtomicBoolean();
        final List<Long> created = new CopyOnWriteArrayList<>();

        boolean ready() {
            return askedOnce.getAndSet(true);
        }

        void create(long orderId) {
            created.add(orderId);
        }
    }

    private TestDatabase db;
    private TestVhost vhost;

    @BeforeEach
    void setUp() {
        db = PostgresFixture.get().createDatabase("readme");
        Migrations.apply(db.dataSource());
        db.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
        vhost = RabbitFixture.get().newVirtualHost("readme");
    }

    @AfterEach
    void tearDown() {
        try {
            vhost.close();
        } finally {
            db.close();
        }
    }

    private static void saveOrder(Connection c, Order order) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (id, customer) VALUES (?, ?)")) {
            ps.setLong(1, order.id());
            ps.setString(2, order.customer());
            ps.executeUpdate();
        }
    }

    @Test
    void theReadmesJavaBlocksAreTheExamplesThisTestRuns() throws Exception {
        List<String> readme = new ArrayList<>();
        String plain = Files.readString(README);
        plain = plain.substring(plain.indexOf("## Without Spring")); // the Spring blocks: OrdersServiceIT
        Matcher block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(plain);
        while (block.find()) {
            readme.add(block.group(1).strip());
        }
        Map<String, String> regions = new java.util.HashMap<>();
        Matcher region = Pattern.compile("// README:(\\w+)\\n(.*?)\\n\\s*// README:end", Pattern.DOTALL)
                .matcher(Files.readString(SOURCE));
        while (region.find()) {
            regions.put(region.group(1), region.group(2).stripIndent().strip());
        }
        assertThat(readme)
                .as("the README's Java blocks, in order: write, subscribe, publish")
                .containsExactly(regions.get("write"), regions.get("subscribe"), regions.get("publish"));
    }

    @Test
    void theReadmesExamplesDeliverBothEventsToTheSubscriber() throws Exception {
        DataSource dataSource = db.dataSource();
        String rabbitUri = vhost.uri();
        Invoices invoices = new Invoices();
        Order order = new Order(42, "acme");
        Map<String, String> env = RelayEnv.forTest(db, RabbitFixture.get());
        env.put("RELAY_RABBITMQ_URI", vhost.uri());
        try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
            // spotless:off
            // README:subscribe
            Broker broker = Broker.connect(BrokerConfig.of(rabbitUri));   // e.g. amqp://guest:guest@localhost:5672/%2F
            Subscriber subscriber = new Subscriber(broker, "order.created.*", SubscriptionOptions.queue("billing_orders"), "billing");
            subscriber.start((headers, body) -> {
                if (!invoices.ready()) throw new RetryException();   // again in 1, 2, 4, 8, 16 s, then dead-lettered
                invoices.create(body.get("id").asLong());
            });
            // README:end
            // spotless:on
            try (broker;
                    subscriber) {
                // spotless:off
                // README:write
                Outbox outbox = new Outbox();
                outbox.saveAndAppend(dataSource, c -> saveOrder(c, order), OutboxEvent.of("order.created.v1", order));
                // README:end
                // spotless:on
                // spotless:off
                // README:publish
                new Publisher(broker).send(OutboxEvent.of("order.created.v1", order));
                // README:end
                // spotless:on
                await().atMost(Duration.ofSeconds(30)).until(() -> invoices.created.size() == 2);
                assertThat(invoices.created).containsExactly(42L, 42L);
                assertThat(db.queryLong("SELECT count(*) FROM orders")).isEqualTo(1);
            }
        }
    }
}
