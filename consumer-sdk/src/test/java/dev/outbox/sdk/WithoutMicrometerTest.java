package dev.outbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.testing.ClassPaths;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is optional: an application without it on its class path links and uses the
 * subscriber and its options. Loaded in a class loader that has everything of the test's class
 * path but Micrometer.
 */
class WithoutMicrometerTest {

    @Test
    void theSubscriberLinksAndItsOptionsWorkWithoutMicrometer() throws Exception {
        try (URLClassLoader withoutMicrometer = ClassPaths.without("micrometer")) {
            assertThatThrownBy(() -> withoutMicrometer.loadClass("io.micrometer.core.instrument.MeterRegistry"))
                    .isInstanceOf(ClassNotFoundException.class);
            Class<?> subscriber = Class.forName("dev.outbox.sdk.Subscriber", true, withoutMicrometer);
            for (var m : subscriber.getDeclaredMethods()) {
                m.getName(); // links the class's methods
            }
            Class<?> options = Class.forName("dev.outbox.sdk.SubscriptionOptions", true, withoutMicrometer);
            Object queue = options.getMethod("queue", String.class).invoke(null, "plain");
            Object withPrefetch = options.getMethod("prefetch", int.class).invoke(queue, 5);
            Object none = Class.forName("dev.outbox.sdk.SubscriberMetrics", true, withoutMicrometer)
                    .getField("NONE")
                    .get(null);
            assertThat(options.getMethod("metrics").invoke(withPrefetch)).isSameAs(none);
        }
    }
}
