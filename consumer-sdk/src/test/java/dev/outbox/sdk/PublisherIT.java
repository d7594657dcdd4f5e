package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.outbox.sdk.internal.ConfirmingChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One Publisher (and its ConfirmingChannel) shared by many threads: every send confirmed on its own. */
class PublisherIT {

    private static final int THREADS = 8;
    private static SdkEnvironment env;
    private static Connection raw;
    private final ExecutorService senders = Executors.newFixedThreadPool(THREADS);

    @BeforeAll
    static void setUp() throws Exception {
        env = new SdkEnvironment("publisher");
        raw = env.connectionFactory().newConnection("publisher-it");
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (raw != null) {
            raw.close();
        }
        if (env != null) {
            env.close();
        }
    }

    @AfterEach
    void stopSenders() throws InterruptedException {
        senders.shutdownNow();
        assertThat(senders.awaitTermination(30, TimeUnit.SECONDS))
                .as("senders stopped")
                .isTrue();
    }

    @Test
    void sendsFromManyThreadsAreEachConfirmedAndEachArrivesOnce() throws Exception {
        try (Channel ch = raw.createChannel();
                Publisher publisher = new Publisher(env.broker)) {
            publisher.send("{}", "shared.first"); // declares exchange 'shared' before the queue binds to it
            ch.queueDeclare("shared_q", true, false, false, Map.of());
            ch.queueBind("shared_q", "shared", "shared.x");

            List<Future<List<String>>> sent = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                sent.add(senders.submit(() -> {
                    List<String> ids = new ArrayList<>();
                    for (int i = 0; i < 250; i++) {
                        ids.add(publisher.send("{\"thread\":" + thread + ",\"i\":" + i + "}", "shared.x"));
                    }
                    return ids;
                }));
            }
            Set<String> confirmed = new HashSet<>();
            for (Future<List<String>> f : sent) {
                confirmed.addAll(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(confirmed).hasSize(THREADS * 250);

            List<String> arrived = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                GetResponse r;
                while ((r = ch.basicGet("shared_q", true)) != null) {
                    arrived.add(r.getProps().getMessageId());
                }
                return arrived.size() >= confirmed.size();
            });
            assertThat(arrived).hasSize(confirmed.size()).containsExactlyInAnyOrderElementsOf(confirmed);
        }
    }

    @Test
    void aMessageNoQueueTakesFailsOnlyItsOwnCallAmongConcurrentOnes() throws Exception {
        try (Channel ch = raw.createChannel();
                ConfirmingChannel channel = new ConfirmingChannel(env.broker)) {
            // No alternate exchange: a message to 'nowhere' is returned, one to 'somewhere' is queued.
            ch.exchangeDeclare("nowhere", "topic", true);
            ch.exchangeDeclare("somewhere", "topic", true);
            ch.queueDeclare("somewhere_q", true, false, false, Map.of());
            ch.queueBind("somewhere_q", "somewhere", "#");

            Map<String, String> outcomes = new ConcurrentHashMap<>();
            List<Callable<Void>> calls = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                calls.add(() -> {
                    for (int i = 0; i < 100; i++) {
                        String id = thread + "-" + i;
                        String exchange = i % 10 == thread ? "nowhere" : "somewhere";
                        try {
                            channel.publish(exchange, "k." + id, props(id), "{}".getBytes(StandardCharsets.UTF_8));
                            outcomes.put(id, exchange + ": confirmed");
                        } catch (IOException e) {
                            outcomes.put(id, exchange + ": " + e.getMessage());
                        }
                    }
                    return null;
                });
            }
            for (Future<Void> f : senders.invokeAll(calls, 60, TimeUnit.SECONDS)) {
                f.get();
            }

            assertThat(outcomes).hasSize(THREADS * 100);
            outcomes.forEach((id, outcome) -> {
                if (outcome.startsWith("nowhere")) {
                    assertThat(outcome)
                            .as(id)
                            .isEqualTo("nowhere: no queue took the message sent to exchange 'nowhere'"
                                    + " with routing key 'k." + id + "'");
                } else {
                    assertThat(outcome).as(id).isEqualTo("somewhere: confirmed");
                }
            });
            assertThat(outcomes.values())
                    .filteredOn(o -> o.startsWith("nowhere"))
                    .hasSize(80);
            assertThat(ch.messageCount("somewhere_q")).isEqualTo(THREADS * 100 - 80);
        }
    }

    @Test
    void aPublishThatClosesTheChannelFailsAndTheNextCallWorksOnANewOne() throws Exception {
        try (Channel ch = raw.createChannel();
                ConfirmingChannel channel = new ConfirmingChannel(env.broker)) {
            ch.queueDeclare("after_close_q", true, false, false, Map.of());
            assertThatThrownBy(() -> channel.publish("no-such-exchange", "k", props("lost"), new byte[0]))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("could not publish to exchange 'no-such-exchange' with routing key 'k'")
                    .hasMessageContaining("NOT_FOUND");
            channel.publish("", "after_close_q", props("kept"), new byte[0]);
            assertThat(ch.basicGet("after_close_q", true).getProps().getMessageId())
                    .isEqualTo("kept");
        }
    }

    private static AMQP.BasicProperties props(String messageId) {
        return new AMQP.BasicProperties.Builder()
                .messageId(messageId)
                .deliveryMode(2)
                .build();
    }
}
