package dev.outbox.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The rules of publisher confirms that the SDK's channel and the relay's ledger share. */
class UnconfirmedTest {

    @Test
    void aSingleConfirmSettlesOnlyItsOwnMessage() {
        Unconfirmed<String> u = unconfirmed("a", "b", "c");

        assertThat(u.settle(2, false)).containsExactly("b");
        assertThat(u.settle(2, false)).isEmpty();
        assertThat(u.size()).isEqualTo(2);
        assertThat(u.oldest()).isEqualTo("a");
    }

    @Test
    void aMultipleConfirmSettlesEveryMessageUpToItInPublishOrder() {
        Unconfirmed<String> u = unconfirmed("a", "b", "c", "d");
        u.settle(2, false);

        assertThat(u.settle(3, true)).containsExactly("a", "c");
        assertThat(u.size()).isEqualTo(1);
        assertThat(u.oldest()).isEqualTo("d");
    }

    @Test
    void aReturnBelongsToTheEarliestMatchingMessageNotYetMarked() {
        Unconfirmed<StringBuilder> u = new Unconfirmed<>();
        StringBuilder first = new StringBuilder("k");
        StringBuilder second = new StringBuilder("k");
        u.add(1, first);
        u.add(2, second);

        StringBuilder returned = u.returned(m -> m.toString().equals("k"));
        returned.append("!");
        StringBuilder next = u.returned(m -> m.toString().equals("k"));

        assertThat(returned).isSameAs(first);
        assertThat(next).isSameAs(second);
        assertThat(u.returned(m -> m.toString().equals("x"))).isNull();
    }

    @Test
    void aLostChannelHandsBackEveryMessageInPublishOrder() {
        Unconfirmed<String> u = unconfirmed("a", "b", "c");
        u.remove(2);

        assertThat(u.removeAll()).containsExactly("a", "c");
        assertThat(u.isEmpty()).isTrue();
        assertThat(u.oldest()).isNull();
    }

    private static Unconfirmed<String> unconfirmed(String... messages) {
        Unconfirmed<String> u = new Unconfirmed<>();
        for (int i = 0; i < messages.length; i++) {
            u.add(i + 1, messages[i]);
        }
        return u;
    }
}
