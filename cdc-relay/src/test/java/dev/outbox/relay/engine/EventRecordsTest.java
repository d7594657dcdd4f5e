package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EventRecordsTest {

    @Test
    void headerValuesAreKeptInTheirOrderAsText() {
        assertThat(EventRecords.headers("{\"trace-id\": \"abc\", \"tenant\": \"t-1\", \"note\": \"\\u00e9\\\"q\\\"\"}"))
                .containsExactly(Map.entry("trace-id", "abc"), Map.entry("tenant", "t-1"), Map.entry("note", "é\"q\""));
    }

    @Test
    void nonStringValuesOfAWriterWithoutTheConstraintArriveAsTheirJsonText() {
        assertThat(EventRecords.headers("{\"n\": 42, \"f\": 1.5, \"b\": true, \"z\": null, \"o\": {\"a\": [1, \"x\"]}, \"s\": \"last\"}"))
                .containsExactly(Map.entry("n", "42"), Map.entry("f", "1.5"), Map.entry("b", "true"), Map.entry("z", "null"),
                        Map.entry("o", "{\"a\":[1,\"x\"]}"), Map.entry("s", "last"));
    }

    @Test
    void aRepeatedNameKeepsItsFirstPlaceAndItsLastValue() {
        assertThat(EventRecords.headers("{\"a\": \"1\", \"b\": \"2\", \"a\": \"3\"}"))
                .containsExactly(Map.entry("a", "3"), Map.entry("b", "2"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "{}", "[\"a\"]", "\"text\"", "{\"a\": \"1\"", "not json"})
    void emptyOrUnreadableHeadersGiveNoHeadersRatherThanStoppingTheStream(String json) {
        assertThat(EventRecords.headers(json)).isEmpty();
    }
}
