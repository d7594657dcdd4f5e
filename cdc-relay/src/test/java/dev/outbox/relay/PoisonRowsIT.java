package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.testing.BrokerFaults;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rows a hostile or careless writer can commit that AMQP or the broker cannot carry. Before
 * the publishing core was rebuilt, the client's IllegalArgumentException for such a row (a
 * header name over 255 bytes, headers over one frame) escaped the publisher and ended the
 * stream, and the restart met the same row again: one row stopped the stream for everyone.
 * Each must now go to DLX as relay_error while the rows after it arrive, in order.
 */
class PoisonRowsIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private RelayWorld world;

    @BeforeEach
    void setUp() {
        world = RelayWorld.create("relay_poison", "poison");
        // The table refuses such rows since V7; rows from before it, or from a writer that dropped
        // the constraints, still reach the relay, and are what this test writes.
        world.db()
                .execute("ALTER TABLE events DROP CONSTRAINT headers_names_at_most_255_bytes_and_not_reserved,"
                        + " DROP CONSTRAINT headers_at_most_65536_bytes");
    }

    @AfterEach
    void tearDown() {
        world.close();
    }

    /** Inserts a row as a writer bypassing the Java API would; its message id. */
    private String insert(String tag, String payload, String headersJson, String aggregateId) throws Exception {
        try (Connection c = world.db().dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO events (routing_key, payload, headers, aggregate_type,"
                                + " aggregate_id) VALUES (?, ?::jsonb, ?::jsonb, 'order', ?) RETURNING message_id::text")) {
            ps.setString(1, world.exchange() + "." + tag);
            ps.setString(2, payload);
            ps.setString(3, headersJson);
            ps.setString(4, aggregateId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    @Test
    void rowsWhoseHeadersAmqpCannotCarryGoToDlxAndTheRowsAfterThemArriveInOrder() throws Exception {
        try (Recorder events = Recorder.bind(BROKER, world.rabbit().queue("poison"), world.exchange() + ":#");
                Recorder dlx = Recorder.existing(BROKER, "dead_letters");
                RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
            List<String> good = new ArrayList<>();
            good.add(insert("created", "{\"n\":1}", "{}", "1"));
            String longName = insert("created", "{\"n\":2}", "{\"" + "h".repeat(300) + "\": \"v\"}", "2");
            good.add(insert("created", "{\"n\":3}", "{}", "3"));
            // Headers are the unbounded part (aggregate columns are bounded by their index at about 2.7 kB).
            String hugeHeaders = insert("created", "{\"n\":4}", "{\"big\": \"" + "a".repeat(300_000) + "\"}", "4");
            good.add(insert("created", "{\"n\":5}", "{}", "5"));

            await().atMost(Duration.ofSeconds(30))
                    .until(() -> events.messageIds().containsAll(good)
                            && dlx.deliveriesOf(List.of(longName, hugeHeaders)).size() >= 2);
            Recorder.Tally tally = events.tally(good);
            System.out.println("scenario poison-headers: " + tally + " relay_error=2");
            assertThat(tally.unexpected()).isZero();
            assertThat(tally.orderViolations()).isZero();

            Recorder.Delivery name = dlx.deliveriesOf(List.of(longName)).get(0);
            assertThat(name.header("dead-letter-reason")).isEqualTo("relay_error");
            assertThat(name.header("error")).contains("header name of 300 bytes");
            assertThat(name.header("original-routing-key")).isEqualTo(world.exchange() + ".created");
            assertThat(name.header("event-id")).isNotNull();
            assertThat(name.bodyText()).isEqualTo("{\"n\": 2}");

            Recorder.Delivery huge = dlx.deliveriesOf(List.of(hugeHeaders)).get(0);
            assertThat(huge.header("error"))
                    .contains("do not fit in one AMQP frame")
                    .contains("headers were not kept");
            assertThat(huge.header("big")).isNull();
            assertThat(huge.header("aggregate-id")).isEqualTo("4");
            assertThat(relay.relay().metrics().scrape()).contains("relay_errors_total{reason=\"relay_error\"} 2.0");
            assertThat(relay.readiness()).isNull();
        }
    }

    @Test
    void aBodyOverTheBrokersMaxMessageSizeIsLearnedFromItsRefusalAndSetAside() throws Exception {
        // RabbitMQ reads max_message_size when a channel opens: the relay started after this sees it.
        BrokerFaults.rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, 65536).");
        try (Recorder events = Recorder.bind(BROKER, world.rabbit().queue("poison"), world.exchange() + ":#");
                Recorder dlx = Recorder.existing(BROKER, "dead_letters");
                RelayHarness relay = RelayHarness.start(world.env()).awaitReady()) {
            String big = "{\"pad\": \"" + "x".repeat(100_000) + "\"}";
            List<String> good = new ArrayList<>();
            good.add(insert("created", "{\"n\":1}", "{}", "1"));
            String first = insert("created", big, "{}", "2");
            good.add(insert("created", "{\"n\":3}", "{}", "3"));
            String second = insert("created", big, "{}", "4");
            good.add(insert("created", "{\"n\":5}", "{}", "5"));

            await().atMost(Duration.ofSeconds(60))
                    .until(() -> events.messageIds().containsAll(good)
                            && dlx.deliveriesOf(List.of(first, second)).size() >= 2);
            Recorder.Tally tally = events.tally(good);
            System.out.println("scenario poison-max-message-size: " + tally);
            assertThat(tally.unexpected()).isZero();
            assertThat(tally.orderViolations()).isZero();
            for (Recorder.Delivery d : dlx.deliveriesOf(List.of(first, second))) {
                assertThat(d.header("dead-letter-reason")).isEqualTo("relay_error");
                assertThat(d.header("error")).contains("max_message_size");
                assertThat(d.header("body-omitted-bytes")).isNotNull();
                assertThat(d.body()).isEmpty();
            }
        } finally {
            BrokerFaults.rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, 134217728).");
        }
    }
}
