package dev.outbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutboxEventTest {

    record Order(String id, int amount) {}

    @Test
    void serialisesObjectsJsonNodesAndValidatedJsonText() {
        assertThat(OutboxEvent.of("order.created", new Order("o-1", 5)).payloadJson())
                .isEqualTo("{\"id\":\"o-1\",\"amount\":5}");
        assertThat(OutboxEvent.of(
                                "order.created",
                                new ObjectMapper().createObjectNode().put("a", 1))
                        .payloadJson())
                .isEqualTo("{\"a\":1}");
        assertThat(OutboxEvent.of("order.created", "[1, 2]").payloadJson()).isEqualTo("[1, 2]");
    }

    @Test
    void rejectsTextThatIsNotJsonWithoutQuotingIt() {
        assertThatThrownBy(() -> OutboxEvent.of("order.created", "{\"card\": secret-4111}"))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageStartingWith("payload is not valid JSON")
                .hasMessageContaining("line 1")
                .hasMessageNotContaining("secret");
    }

    @Test
    void rejectsTrailingGarbageAndEmptyText() {
        assertThatThrownBy(() -> OutboxEvent.of("order.created", "{} {}"))
                .hasMessageStartingWith("payload is not valid JSON");
        assertThatThrownBy(() -> OutboxEvent.of("order.created", "  "))
                .hasMessageStartingWith("payload is not valid JSON");
    }

    @Test
    void rejectsJsonNullAndMissingPayload() {
        assertThatThrownBy(() -> OutboxEvent.of("order.created", "null")).hasMessageContaining("must not be JSON null");
        assertThatThrownBy(() -> OutboxEvent.of("order.created", null)).hasMessageContaining("payload is required");
        assertThatThrownBy(() -> OutboxEvent.builder("order.created").build())
                .hasMessageContaining("payload is required");
    }

    @Test
    void rejectsDeeplyNestedJson() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        assertThatThrownBy(() -> OutboxEvent.of("order.created", deep))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageStartingWith("payload is not valid JSON");
    }

    @Test
    void rejectsObjectsJacksonCannotSerialise() {
        Object unserialisable = new Object() {
            public Object getSelf() {
                return this;
            }
        };
        assertThatThrownBy(() -> OutboxEvent.of("order.created", unserialisable))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("does not serialise to JSON");
    }

    @Test
    void rejectsHeadersThatAreNotStringToString() {
        Map<String, Object> headers = new HashMap<>();
        headers.put("count", 3);
        assertThatThrownBy(() -> OutboxEvent.builder("order.created").headers(headers))
                .isInstanceOf(InvalidEventException.class)
                .hasMessage("header 'count' must have a string value (was Integer)");
        headers.clear();
        headers.put("empty", null);
        assertThatThrownBy(() -> OutboxEvent.builder("order.created").headers(headers))
                .hasMessage("header 'empty' must have a string value (was null)");
    }

    @Test
    void rejectsBrokerReservedHeaderNames() {
        assertThatThrownBy(() -> OutboxEvent.builder("order.created").header("x-death", "1"))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("reserves");
    }

    @Test
    void refusesHeadersThePipelineSetsItselfSoAProducerCannotSteerRetriesOrReplays() {
        for (String name :
                List.of("retry-count", "dead-letter-queue", "original-exchange", "Original-Routing-Key", "error")) {
            assertThatThrownBy(() -> OutboxEvent.builder("order.created").header(name, "x"))
                    .isInstanceOf(InvalidEventException.class)
                    .hasMessageContaining("is reserved");
        }
        assertThatThrownBy(() -> OutboxEvent.builder("order.created").header("aggregate-id", "7"))
                .hasMessageContaining("use aggregate(type, id)");
    }

    @Test
    void refusesWhatAmqpCannotCarryBeforeItReachesTheTable() {
        assertThatThrownBy(() -> OutboxEvent.builder("order.created").header("h".repeat(256), "v"))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("header name of 256 bytes");
        assertThatThrownBy(() -> OutboxEvent.builder("order.created")
                        .payload("{}")
                        .header("big", "x".repeat(70_000))
                        .build())
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("more than 65536");
        assertThatThrownBy(() -> OutboxEvent.builder("order.created")
                        .payload("{}")
                        .aggregate("order", "7".repeat(1001))
                        .build())
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("aggregate id of 1001 bytes");
        String huge = "{\"s\":\"" + "\u00e9".repeat(OutboxEvent.MAX_PAYLOAD_BYTES / 2) + "\"}";
        assertThatThrownBy(
                        () -> OutboxEvent.builder("order.created").payload(huge).build())
                .isInstanceOf(InvalidEventException.class)
                .hasMessageContaining("more than 16777216 (16 MiB)");
    }

    @Test
    void correlationIdTravelsAsAHeader() {
        OutboxEvent event = OutboxEvent.builder("order.created")
                .payload("{}")
                .correlationId("req-7")
                .build();
        assertThat(event.headers()).containsEntry("correlation-id", "req-7");
    }
}
