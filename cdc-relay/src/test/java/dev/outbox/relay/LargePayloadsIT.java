package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.testing.BrokerFaults;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.Recorder;
import dev.outbox.testing.RelayProcess;
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
 * Payloads as large as the table takes, through the relay started with the launcher's own heap:
 * the Debezium queue and the confirm window count bytes, so large events pass a few at a time
 * instead of filling the heap (with -XX:+ExitOnOutOfMemoryError, a crash loop on the same WAL).
 */
class LargePayloadsIT {

    private static final RabbitFixture BROKER = RabbitFixture.get();
    private RelayWorld world;

    @BeforeEach
    void setUp() {
        world = RelayWorld.create("relay_large", "large");
    }

    @AfterEach
    void tearDown() {
        world.close();
    }

    @Test
    void payloadsUpToTheTablesLimitPassTheLaunchersHeapInCommitOrder() throws Exception {
        try (Recorder events = Recorder.bind(BROKER, world.rabbit().queue("large"), world.exchange() + ":#");
                RelayProcess relay = RelayProcess.start(
                                world.env(), "large-" + world.exchange(), LauncherIT.launcherJvmOptions())
                        .awaitReady()) {
            List<String> ids = new ArrayList<>();
            String watermark = BrokerFaults.rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
                    .trim();
            try {
                // RabbitMQ blocks publishers (a memory alarm): the relay's publisher waits while its WAL reader
                // goes on. Before, Debezium's queue then filled with up to 2,048 events whatever their size.
                BrokerFaults.rabbitmqctl("set_vm_memory_high_watermark", "0.000001");
                try (Connection c = world.db().dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    for (int i = 0; i < 24; i++) {
                        ids.add(insert(c, i % 2 == 0 ? 16_000_000 : 10));
                    }
                    c.commit();
                }
                await().during(Duration.ofSeconds(10))
                        .atMost(Duration.ofSeconds(15))
                        .until(() -> relay.isAlive());
            } finally {
                if (watermark.startsWith("{absolute,")) {
                    BrokerFaults.rabbitmqctl(
                            "set_vm_memory_high_watermark",
                            "absolute",
                            watermark.substring("{absolute,".length(), watermark.length() - 1));
                } else {
                    BrokerFaults.rabbitmqctl("set_vm_memory_high_watermark", watermark);
                }
            }
            await().atMost(Duration.ofMinutes(3))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        if (!relay.isAlive()) {
                            throw new AssertionError("the relay died:\n" + relay.output());
                        }
                        return events.messageIds().containsAll(ids);
                    });
            Recorder.Tally tally = events.tally(ids);
            System.out.println("scenario large-payloads: " + tally);
            assertThat(tally.lost()).isZero();
            assertThat(tally.orderViolations()).isZero();
            assertThat(relay.output()).doesNotContain("OutOfMemoryError");
        }
    }

    @Test
    void aRowLargerThanTheRelayReadsGoesToDlxWithoutItsBodyAndTheNextRowArrives() throws Exception {
        // Only a row from before V8, or one written past the dropped constraint, can be this large. Before, the relay
        // copied and decoded it twice more and died of OutOfMemoryError on it at every start.
        world.db().execute("ALTER TABLE events DROP CONSTRAINT payload_at_most_16_mib");
        try (Recorder events = Recorder.bind(BROKER, world.rabbit().queue("huge"), world.exchange() + ":#");
                Recorder dlx = Recorder.existing(BROKER, "dead_letters");
                RelayProcess relay = RelayProcess.start(
                                world.env(), "huge-" + world.exchange(), LauncherIT.launcherJvmOptions())
                        .awaitReady()) {
            String huge;
            String after;
            try (Connection c = world.db().dataSource().getConnection()) {
                huge = insert(c, 60_000_000);
                after = insert(c, 10);
            }
            await().atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        if (!relay.isAlive()) {
                            throw new AssertionError("the relay died:\n" + relay.output());
                        }
                        return events.messageIds().contains(after)
                                && !dlx.deliveriesOf(List.of(huge)).isEmpty();
                    });
            Recorder.Delivery copy = dlx.deliveriesOf(List.of(huge)).get(0);
            assertThat(copy.header("dead-letter-reason")).isEqualTo("relay_error");
            assertThat(copy.header("error")).contains("more than the 16 MiB the relay reads");
            assertThat(Long.parseLong(copy.header("body-omitted-bytes"))).isGreaterThan(60_000_000);
            assertThat(copy.header("original-routing-key")).isEqualTo(world.exchange() + ".big");
            assertThat(events.messageIds()).doesNotContain(huge);
        }
    }

    private String insert(Connection c, int size) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (routing_key, payload)"
                + " VALUES (?, jsonb_build_object('s', repeat('x', ?))) RETURNING message_id::text")) {
            ps.setString(1, world.exchange() + ".big");
            ps.setInt(2, size);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
