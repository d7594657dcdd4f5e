package dev.outbox.relay.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SignInThrottleTest {

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final SignInThrottle throttle = new SignInThrottle(now::get);

    @Test
    void anAddressIsRefusedAfterTenFailuresUntilTheOldestLeavesTheWindow() {
        for (int i = 0; i < SignInThrottle.MAX_FAILURES - 1; i++) {
            throttle.failed("10.0.0.1");
            now.addAndGet(1_000);
        }
        assertThat(throttle.blockedForSeconds("10.0.0.1")).isZero();
        throttle.failed("10.0.0.1");
        long wait = throttle.blockedForSeconds("10.0.0.1");
        assertThat(wait).isEqualTo(SignInThrottle.WINDOW.toSeconds() - (SignInThrottle.MAX_FAILURES - 1));
        assertThat(throttle.blockedForSeconds("10.0.0.2")).as("another address").isZero();
        now.addAndGet(wait * 1000);
        assertThat(throttle.blockedForSeconds("10.0.0.1")).isZero();
    }
}
