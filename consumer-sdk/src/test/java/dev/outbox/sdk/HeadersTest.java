package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.protocol.Headers;
import dev.outbox.protocol.OutboxEvent;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;

class HeadersTest {

    @Test
    void everyHeaderThePipelineSetsIsReservedForProducers() throws Exception {
        // A producer that could set retry-count, dead-letter-queue or original-exchange would steer its own retries and
        // replays.
        for (Field f : Headers.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                assertThat(OutboxEvent.RESERVED_HEADERS)
                        .as("Headers." + f.getName())
                        .contains((String) f.get(null));
            }
        }
    }
}
