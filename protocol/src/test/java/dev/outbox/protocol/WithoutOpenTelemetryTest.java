package dev.outbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.testing.ClassPaths;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/**
 * The OpenTelemetry API is optional: without it on the class path, tracing is {@code NONE} and
 * an event goes out as it is. Loaded in a class loader with the test's class path minus OpenTelemetry.
 */
class WithoutOpenTelemetryTest {

    @Test
    void withoutTheOpenTelemetryApiTracingIsNoneAndEventsAreUntouched() throws Exception {
        try (URLClassLoader withoutOtel = ClassPaths.without("opentelemetry")) {
            assertThatThrownBy(() -> withoutOtel.loadClass("io.opentelemetry.api.GlobalOpenTelemetry"))
                    .isInstanceOf(ClassNotFoundException.class);
            Class<?> tracingType = Class.forName("dev.outbox.protocol.EventTracing", true, withoutOtel);
            Object detected = tracingType.getMethod("detect").invoke(null);
            assertThat(detected).isSameAs(tracingType.getField("NONE").get(null));
            Class<?> eventType = Class.forName("dev.outbox.protocol.OutboxEvent", true, withoutOtel);
            Object event = eventType.getMethod("of", String.class, Object.class).invoke(null, "order.created", "{}");
            assertThat(tracingType.getMethod("traced", eventType).invoke(detected, event))
                    .isSameAs(event);
        }
    }
}
