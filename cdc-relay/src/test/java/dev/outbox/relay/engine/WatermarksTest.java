package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which rows the retention rule may delete: only those the slots have certainly confirmed. */
class WatermarksTest {

    @Test
    void nothingIsPublishedUntilTheSlotsConfirmAMark() {
        Watermarks w = new Watermarks(10);
        w.add(new Watermarks.Mark(1_000, 50, 1_000));

        w.confirmed(999);

        assertThat(w.publishedBelowXid()).isEqualTo(-1);
        assertThat(w.waiting()).isEqualTo(1);
    }

    @Test
    void theNewestConfirmedMarkDecidesAndOlderOnesAreForgotten() {
        Watermarks w = new Watermarks(10);
        w.add(new Watermarks.Mark(1_000, 50, 1_000));
        w.add(new Watermarks.Mark(2_000, 70, 2_000));
        w.add(new Watermarks.Mark(3_000, 90, 3_000));

        w.confirmed(2_500);

        assertThat(w.publishedBelowXid()).isEqualTo(70);
        assertThat(w.waiting()).isEqualTo(1);
        assertThat(w.oldestWaitingMillis())
                .as("when the mark still waiting was taken")
                .isEqualTo(3_000);
    }

    @Test
    void aSlotThatFallsBackDoesNotTakeBackWhatWasConfirmed() {
        // confirmed_flush_lsn never goes back; the least of several slots can, when a slot is created: its rows
        // were confirmed by every slot that existed when the mark was confirmed, and the new slot starts later.
        Watermarks w = new Watermarks(10);
        w.add(new Watermarks.Mark(1_000, 50, 1_000));
        w.confirmed(1_000);
        w.add(new Watermarks.Mark(2_000, 70, 2_000));

        w.confirmed(10);

        assertThat(w.publishedBelowXid()).isEqualTo(50);
    }

    @Test
    void whileTheSlotsStandStillTheOldestMarksAreKept() {
        Watermarks w = new Watermarks(2);
        w.add(new Watermarks.Mark(1_000, 50, 1_000));
        w.add(new Watermarks.Mark(2_000, 70, 2_000));
        w.add(new Watermarks.Mark(3_000, 90, 3_000));

        w.confirmed(5_000);

        assertThat(w.publishedBelowXid())
                .as("the third mark was not kept: the first two were the ones to confirm first")
                .isEqualTo(70);
        assertThat(w.waiting()).isZero();
    }
}
