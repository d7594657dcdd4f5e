package dev.outbox.relay;

import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriptionOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.List;

/**
 * A consumer in a process of its own, for what only a process suffers (RelayClusterIT, a child
 * JVM per consumer):
 *
 * <ul>
 *   <li>{@code die-on-delivery URI ADDRESSES QUEUE PATTERN DELIVERY_LIMIT}: subscribes, and halts the
 *       JVM on the first message it is given, unacknowledged, as a consumer crashing on a poison message;
 *   <li>{@code partitioned URI ADDRESSES QUEUE PATTERN PARTITIONS JDBC_URL NAME}: a partitioned
 *       subscription that records each message it handles (key, seq, name) in the table {@code handled}.
 * </ul>
 *
 * Prints {@code ready} once consuming.
 */
public final class ClusterConsumerMain {

    private ClusterConsumerMain() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        BrokerConfig config = BrokerConfig.of(args[1]).withAddresses(List.of(args[2].split(",")));
        try (Broker broker = Broker.connect(config.withAppId("cluster-consumer"))) {
            switch (mode) {
                case "die-on-delivery" -> {
                    SubscriptionOptions options =
                            SubscriptionOptions.queue(args[3]).deliveryLimit(Integer.parseInt(args[5]));
                    try (Subscriber s = new Subscriber(broker, args[4], options, "dies")) {
                        s.start((headers, body) -> {
                            System.out.println("delivered; halting");
                            System.out.flush();
                            Runtime.getRuntime().halt(3);
                        });
                        System.out.println("ready");
                        System.out.flush();
                        Thread.sleep(Long.MAX_VALUE);
                    }
                }
                case "partitioned" -> {
                    SubscriptionOptions options = SubscriptionOptions.queue(args[3])
                            .partitions(Integer.parseInt(args[5]))
                            .prefetch(20);
                    String name = args[7];
                    try (Connection db = DriverManager.getConnection(args[6]);
                            PreparedStatement insert =
                                    db.prepareStatement("INSERT INTO handled (key, seq, consumer) VALUES (?, ?, ?)");
                            Subscriber s = new Subscriber(broker, args[4], options, name)) {
                        s.start((headers, body) -> {
                            synchronized (insert) {
                                insert.setString(1, String.valueOf(headers.get("aggregate-id")));
                                insert.setInt(2, body.get("seq").asInt());
                                insert.setString(3, name);
                                insert.executeUpdate();
                            }
                            Thread.sleep(1); // some work, so a kill finds messages in flight
                        });
                        System.out.println("ready");
                        System.out.flush();
                        Thread.sleep(Long.MAX_VALUE);
                    }
                }
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            }
        }
    }
}
