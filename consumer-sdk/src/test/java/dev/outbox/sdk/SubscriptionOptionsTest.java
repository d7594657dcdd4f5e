package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SubscriptionOptionsTest {

    @Test
    void defaultBackoffIsOneSecondDoublingOverFiveRetries() {
        SubscriptionOptions options = SubscriptionOptions.queue("q");
        assertThat(options.maxRetries()).isEqualTo(5);
        assertThat(IntStream.rangeClosed(1, 5).mapToObj(options::backoffFor).map(Duration::toSeconds))
                .containsExactly(1L, 2L, 4L, 8L, 16L);
        assertThat(options.prefetch()).isEqualTo(50);
        assertThat(options.queueType()).isEqualTo(SubscriptionOptions.QueueType.QUORUM);
    }

    @Test
    void backoffIsCappedAtTheMaximum() {
        SubscriptionOptions options = SubscriptionOptions.queue("q")
                .backoff(Duration.ofSeconds(10), 10)
                .maxBackoff(Duration.ofMinutes(5));
        assertThat(options.backoffFor(4)).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void badValuesNameTheOptionAndTheValue() {
        assertThatThrownBy(() -> SubscriptionOptions.queue("q").prefetch(0))
                .hasMessage("prefetch must be 1..65535 (was 0)");
        assertThatThrownBy(() -> SubscriptionOptions.queue("amq.x")).hasMessageContaining("reserved by RabbitMQ");
        assertThatThrownBy(() -> SubscriptionOptions.queue(" ")).hasMessage("queue name is required");
        assertThatThrownBy(() -> SubscriptionOptions.queue("q").backoff(Duration.ZERO, 2))
                .hasMessage("backoff must be a positive duration (was PT0S)");
        assertThatThrownBy(() -> SubscriptionOptions.queue("q").messageTtl(Duration.ofMillis(-1)))
                .hasMessageStartingWith("messageTtl must be a positive duration");
    }

    @Test
    void optionsAreImmutable() {
        SubscriptionOptions base = SubscriptionOptions.queue("q");
        SubscriptionOptions changed = base.prefetch(10).concurrency(4);
        assertThat(base.prefetch()).isEqualTo(50);
        assertThat(changed.prefetch()).isEqualTo(10);
        assertThat(changed.concurrency()).isEqualTo(4);
    }

    @Test
    void brokerConfigMasksTheUriAndReadsTheEnvironment() {
        BrokerConfig config = BrokerConfig.from(java.util.Map.of(
                "OUTBOX_RABBITMQ_URI",
                "amqp://u:secret@mq:5672/prod",
                "OUTBOX_RABBITMQ_ADDRESSES",
                "mq1:5672, mq2:5672",
                "OUTBOX_APP_ID",
                "billing"));
        assertThat(config.addresses()).containsExactly("mq1:5672", "mq2:5672");
        assertThat(config.appId()).isEqualTo("billing");
        assertThat(config.toString()).doesNotContain("secret").contains("mq1:5672,mq2:5672/prod");
        assertThatThrownBy(() -> BrokerConfig.of("http://mq")).hasMessageContaining("amqp:// or amqps://");
    }

    @Test
    void retryExceptionKeepsTheOldNoArgumentForm() {
        assertThat(new RetryException().delay()).isNull();
        assertThat(new RetryException("x", Duration.ofSeconds(3)).delay()).isEqualTo(Duration.ofSeconds(3));
        assertThatThrownBy(() -> new RetryException("x", Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
