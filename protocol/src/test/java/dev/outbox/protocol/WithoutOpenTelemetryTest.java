package dev.outbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The OpenTelemetry API is optional: without it on the class path, tracing is {@code NONE} and
 * an event goes out as it is. Loaded in a class loader with the test's class path minus OpenTelemetry.
 */
class WithoutOpenTelemetryTest {

    @Test
    void withoutTheOpenTelemetryApiTracingIsNoneAndEventsAreUntouched() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.contains("opentelemetry")) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        try (URLClassLoader withoutOtel =
                new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
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
