package dev.outbox.relay.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.protocol.OutgoingMessage;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ledger's memory: what it keeps while one message is parked. */
class PublishLedgerTest {

    private static OutgoingMessage message(long id, String routingKey) {
        return new OutgoingMessage(
                "m" + id, routingKey, new byte[1024], Map.of(), id, null, null, java.time.Instant.EPOCH);
    }

    @Test
    void aParkedMessageDoesNotKeepTheConfirmedOnesAfterItInMemory() {
        // Before: every confirmed message behind a parked one stayed in the ledger, body included, until the parked one
        // was confirmed; one message nacked for an hour at 1,000 events/s held 3.6 million of them.
        PublishLedger ledger = new PublishLedger();
        long sequence = 1;
        PublishLedger.Entry stuck = ledger.add(message(0, "stuck.key"), 0);
        ledger.sent(stuck, sequence, System.nanoTime());
        ledger.confirm(ledger.channel(), sequence++, false, false, System.currentTimeMillis(), n -> 3_600_000L);
        for (long id = 1; id <= 10_000; id++) {
            PublishLedger.Entry e = ledger.add(message(id, "other.key"), 0);
            ledger.sent(e, sequence, System.nanoTime());
            ledger.confirm(ledger.channel(), sequence++, false, true, System.currentTimeMillis(), n -> 0L);
        }
        assertThat(ledger.parked()).isEqualTo(1);
        assertThat(ledger.unfinished()).as("only the parked message is held").isEqualTo(1);
        assertThat(ledger.confirmedThrough())
                .as("nothing past the parked message counts as confirmed")
                .isEqualTo(-1);
    }

    @Test
    void theConfirmedPositionMovesPastTheParkedMessageOnceItIsConfirmed() {
        PublishLedger ledger = new PublishLedger();
        PublishLedger.Entry first = ledger.add(message(0, "a.x"), 0);
        PublishLedger.Entry second = ledger.add(message(1, "b.x"), 0);
        ledger.sent(first, 1, System.nanoTime());
        ledger.sent(second, 2, System.nanoTime());
        ledger.confirm(ledger.channel(), 1, false, false, System.currentTimeMillis(), n -> 0L);
        ledger.confirm(ledger.channel(), 2, false, true, System.currentTimeMillis(), n -> 0L);
        assertThat(ledger.confirmedThrough()).isEqualTo(-1);
        PublishLedger.Entry again =
                ledger.sendable(System.currentTimeMillis(), 10).get(0);
        assertThat(again).isSameAs(first);
        ledger.sent(again, 3, System.nanoTime());
        ledger.confirm(ledger.channel(), 3, false, true, System.currentTimeMillis(), n -> 0L);
        assertThat(ledger.confirmedThrough()).isEqualTo(1);
        assertThat(ledger.unfinished()).isZero();
    }

    @Test
    void theWindowCountsBytesAndALargeMessageStillGoesAlone() {
        PublishLedger ledger = new PublishLedger();
        for (long id = 0; id < 3; id++) {
            ledger.add(message(id, "k" + id + ".x"), 0); // 1 KiB bodies
        }
        assertThat(ledger.sendable(System.currentTimeMillis(), 10, 100))
                .as("larger than the room, but nothing is out")
                .hasSize(1);
        assertThat(ledger.sendable(System.currentTimeMillis(), 10, 2_500)).hasSize(2);
        PublishLedger.Entry first =
                ledger.sendable(System.currentTimeMillis(), 1).get(0);
        ledger.sent(first, 1, System.nanoTime());
        assertThat(ledger.outstandingBytes()).isEqualTo(1024);
        assertThat(ledger.sendable(System.currentTimeMillis(), 10, 2_048 - ledger.outstandingBytes()))
                .hasSize(1);
        assertThat(ledger.sendable(System.currentTimeMillis(), 10, 100))
                .as("something is out: wait for it")
                .isEmpty();
        ledger.confirm(ledger.channel(), 1, false, true, System.currentTimeMillis(), n -> 0L);
        assertThat(ledger.outstandingBytes()).isZero();
    }
}
