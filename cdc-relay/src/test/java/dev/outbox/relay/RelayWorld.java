package dev.outbox.relay;

import dev.outbox.db.Migrations;
import dev.outbox.db.Outbox;
import dev.outbox.protocol.OutboxEvent;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RabbitScope;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.TestDatabase;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * One relay test's world: its own migrated database, an exchange of its own (deleted after),
 * the relay's environment for them, and a way to commit events. Close it in @AfterEach.
 */
record RelayWorld(TestDatabase db, RabbitScope rabbit, String exchange, Map<String, String> env)
        implements AutoCloseable {

    static RelayWorld create(String database, String exchangePrefix) {
        TestDatabase db = PostgresFixture.get().createDatabase(database);
        Migrations.apply(db.dataSource());
        RabbitScope rabbit = RabbitFixture.get().scope();
        return new RelayWorld(db, rabbit, rabbit.exchange(exchangePrefix), RelayEnv.forTest(db, RabbitFixture.get()));
    }

    /** Commits {@code count} events with routing key {@code <exchange>.<tag>} in one transaction; their message ids. */
    List<String> write(int count, String tag) {
        Outbox outbox = new Outbox();
        return outbox
                .inTransaction(
                        db.dataSource(),
                        c -> outbox.appendAll(
                                c,
                                IntStream.range(0, count)
                                        .mapToObj(i -> OutboxEvent.of(exchange + "." + tag, "{\"i\":" + i + "}"))
                                        .toList()))
                .stream()
                .map(e -> e.messageId().toString())
                .toList();
    }

    @Override
    public void close() {
        try {
            rabbit.close();
        } finally {
            db.close();
        }
    }
}
