package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/** After packaging: the relay's jar ships the patched ChangeEventQueue (see DebeziumPatchTest), not Debezium's. */
class ShadedJarIT {

    @Test
    void shadedJarShipsThePatchedChangeEventQueue() throws Exception {
        Path jar = Path.of("target", "cdc-relay.jar");
        assertThat(jar).as("the shaded jar, built in the package phase").exists();
        Path ours = Path.of("target", "classes", "io", "debezium", "connector", "base", "ChangeEventQueue.class");
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            byte[] shipped = zip.getInputStream(zip.getEntry("io/debezium/connector/base/ChangeEventQueue.class")).readAllBytes();
            assertThat(shipped).isEqualTo(Files.readAllBytes(ours));
        }
    }
}
