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
        assertThat(
                        EventRecords.headers(
                                "{\"n\": 42, \"f\": 1.5, \"b\": true, \"z\": null, \"o\": {\"a\": [1, \"x\"]}, \"s\": \"last\"}"))
                .containsExactly(
                        Map.entry("n", "42"),
                        Map.entry("f", "1.5"),
                        Map.entry("b", "true"),
                        Map.entry("z", "null"),
                        Map.entry("o", "{\"a\":[1,\"x\"]}"),
                        Map.entry("s", "last"));
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

    @Test
    void theOversizeMarkerReadsBackAndNoJsonbTextCanBeIt() {
        String marker =
                io.debezium.connector.postgresql.connection.pgoutput.PgOutputMessageDecoder.oversizeMarker(60_000_009);
        assertThat(io.debezium.connector.postgresql.connection.pgoutput.PgOutputMessageDecoder.oversizeLength(marker))
                .isEqualTo(60_000_009);
        // PostgreSQL's jsonb refuses \u0000, so a payload it hands over never carries the marker's key.
        assertThat(marker).contains("\\u0000");
        assertThat(io.debezium.connector.postgresql.connection.pgoutput.PgOutputMessageDecoder.oversizeLength(
                        "{\"outbox-relay-oversize\": 5}"))
                .isEqualTo(-1);
        assertThat(io.debezium.connector.postgresql.connection.pgoutput.PgOutputMessageDecoder.oversizeLength(null))
                .isEqualTo(-1);
    }
}
