package dev.outbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RoutingKeyTest {

    @ParameterizedTest
    @ValueSource(strings = {"order.created", "order.created.v1", "a.b", "Order_2-x.*.#", "x.é"})
    void acceptsKeysWithAnExchangeAndAtLeastOneMoreSegment(String key) {
        assertThat(RoutingKey.validate(key)).isEqualTo(key);
    }

    @Test
    void rejectsOneSegmentNamingTheRule() {
        assertThatThrownBy(() -> RoutingKey.validate("order"))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("at least two dot-separated segments")
                .hasMessageContaining("'order'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"order..created", ".order.created", "order.created.", "."})
    void rejectsEmptySegments(String key) {
        assertThatThrownBy(() -> RoutingKey.validate(key))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("segments must not be empty")
                .hasMessageContaining(key);
    }

    @ParameterizedTest
    @ValueSource(strings = {"or der.created", "order!.created", "ordér.created", "a:b.c"})
    void rejectsExchangeSegmentsWithCharactersOutsideTheRule(String key) {
        assertThatThrownBy(() -> RoutingKey.validate(key))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("1 to 255 of A-Z a-z 0-9 _ -");
    }

    @Test
    void rejectsKeysLongerThan255Bytes() {
        String key = "order." + "é".repeat(125); // 6 + 250 bytes
        assertThatThrownBy(() -> RoutingKey.validate(key))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("at most 255 bytes")
                .hasMessageContaining("was 256 bytes");
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> RoutingKey.validate(null)).hasMessageContaining("required");
    }

    @Test
    void exchangeIsTheFirstSegment() {
        assertThat(RoutingKey.exchangeOf("order.created.v1")).isEqualTo("order");
    }
}
