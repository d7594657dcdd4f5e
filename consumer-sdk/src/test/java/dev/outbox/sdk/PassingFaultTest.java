package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

/** Which failures of a handler pass by themselves (requeued) and which are the message's (dead-lettered). */
class PassingFaultTest {

    @Test
    void lostConnectionsRestartsDeadlocksAndSerializationFailuresPass() {
        for (String state : new String[] {"08006", "08001", "57P01", "57P03", "40001", "40P01", "53300"}) {
            assertThat(Subscriber.isPassingFault(new SQLException("x", state)))
                    .as(state)
                    .isTrue();
        }
        assertThat(Subscriber.isPassingFault(new SQLTransientConnectionException("pool timed out")))
                .isTrue();
        assertThat(Subscriber.isPassingFault(new IllegalStateException("wrapped", new SQLException("x", "40001"))))
                .isTrue();
    }

    @Test
    void theMessagesOwnFaultsDoNot() {
        assertThat(Subscriber.isPassingFault(new SQLException("duplicate", "23505")))
                .isFalse();
        assertThat(Subscriber.isPassingFault(new SQLException("bad value", "22P02")))
                .isFalse();
        assertThat(Subscriber.isPassingFault(new SQLException("no state"))).isFalse();
        assertThat(Subscriber.isPassingFault(new IllegalStateException("business rule")))
                .isFalse();
    }
}
