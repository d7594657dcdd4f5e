package dev.outbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import java.sql.SQLException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The database is the last line of defence for writers that bypass the Java API. */
class SchemaConstraintsIT {

    private static TestDatabase db;

    @BeforeAll
    static void createDatabase() {
        db = PostgresFixture.get().createDatabase("constraints");
        Migrations.apply(db.dataSource());
    }

    @AfterAll
    static void dropDatabase() {
        if (db != null) {
            db.close();
        }
    }

    static Stream<Arguments> rowsBreakingARule() {
        return Stream.of(
                Arguments.of("'order'", "'{}'", "routing_key_needs_two_nonempty_dot_separated_segments"),
                Arguments.of("'order..created'", "'{}'", "routing_key_needs_two_nonempty_dot_separated_segments"),
                Arguments.of("'order.created.'", "'{}'", "routing_key_needs_two_nonempty_dot_separated_segments"),
                Arguments.of(
                        "'or der.created'", "'{}'", "routing_key_exchange_is_1_to_255_letters_digits_underscore_dash"),
                Arguments.of(
                        "'a:b.created'", "'{}'", "routing_key_exchange_is_1_to_255_letters_digits_underscore_dash"),
                Arguments.of("'order.' || repeat('x', 250)", "'{}'", "routing_key_at_most_255_bytes"),
                Arguments.of("'order.created'", "'null'", "payload_must_not_be_json_null"));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("rowsBreakingARule")
    void rawInsertBreakingARuleFailsWithTheRuleInTheMessage(String keyExpression, String payload, String rule) {
        assertThatThrownBy(() -> db.execute(
                        "INSERT INTO events (routing_key, payload) VALUES (" + keyExpression + ", " + payload + ")"))
                .hasCauseInstanceOf(SQLException.class)
                .hasMessageContaining("violates check constraint \"" + rule + "\"");
        assertThat(db.queryLong("SELECT count(*) FROM events")).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"'infinity'", "'-infinity'"})
    void createdAtMustBeAFiniteTime(String createdAt) {
        assertThatThrownBy(() -> db.execute("INSERT INTO events (routing_key, payload, created_at) VALUES"
                        + " ('order.created', '{}', " + createdAt + ")"))
                .hasCauseInstanceOf(SQLException.class)
                .hasMessageContaining("violates check constraint \"created_at_must_be_finite\"");
        assertThat(db.queryLong("SELECT count(*) FROM events")).isZero();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "jsonb_build_object(repeat('h', 256), 'v') -> headers_names_at_most_255_bytes_and_not_reserved",
                "'{\"retry-count\": \"0\"}' -> headers_names_at_most_255_bytes_and_not_reserved",
                "'{\"Original-Exchange\": \"admin\"}' -> headers_names_at_most_255_bytes_and_not_reserved",
                "jsonb_build_object('big', repeat('x', 70000)) -> headers_at_most_65536_bytes"
            })
    void headersAmqpCannotCarryOrThePipelineReservesAreRefused(String headersAndRule) {
        String[] parts = headersAndRule.split(" -> ");
        assertThatThrownBy(() -> db.execute("INSERT INTO events (routing_key, payload, headers) VALUES"
                        + " ('order.created', '{}', " + parts[0] + ")"))
                .hasMessageContaining("violates check constraint \"" + parts[1] + "\"");
    }

    @Test
    void aggregateColumnsLongerThanTheirLimitAreRefused() {
        assertThatThrownBy(() ->
                        db.execute("INSERT INTO events (routing_key, payload, aggregate_type, aggregate_id) VALUES"
                                + " ('order.created', '{}', 'order', repeat('7', 1001))"))
                .hasMessageContaining("violates check constraint \"aggregate_type_and_id_at_most_1000_bytes\"");
    }

    @Test
    void payloadsLargerThanTheRelaysHeapIsSizedForAreRefused() {
        assertThatThrownBy(() -> db.execute("INSERT INTO events (routing_key, payload) VALUES"
                        + " ('order.created', jsonb_build_object('s', repeat('x', 16777216)))"))
                .hasMessageContaining("violates check constraint \"payload_at_most_16_mib\"");
        db.execute(
                "INSERT INTO events (routing_key, payload) VALUES ('order.created', jsonb_build_object('s', repeat('x', 16777200)))");
        db.execute("DELETE FROM events"); // the others count on an empty table
    }

    @ParameterizedTest
    @ValueSource(strings = {"'[1]'", "'123'", "'{\"n\": 1}'", "'{\"a\": {\"b\": \"c\"}}'"})
    void headersThatAreNotAnObjectOfStringsAreRefused(String headers) {
        assertThatThrownBy(() -> db.execute("INSERT INTO events (routing_key, payload, headers) VALUES"
                        + " ('order.created', '{}', " + headers + ")"))
                .hasMessageContaining("headers_must_be_json_object_of_string_values");
    }

    @ParameterizedTest
    @ValueSource(strings = {"'not json'", "'{'"})
    void payloadThatIsNotJsonIsRefusedByTheColumnType(String payload) {
        assertThatThrownBy(() -> db.execute(
                        "INSERT INTO events (routing_key, payload) VALUES ('order.created', " + payload + ")"))
                .hasMessageContaining("invalid input syntax for type json");
    }
}
