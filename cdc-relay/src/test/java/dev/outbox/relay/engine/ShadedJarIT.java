package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** After packaging: the relay's jar ships the patched Debezium classes (see DebeziumPatchTest), not Debezium's. */
class ShadedJarIT {

    @ParameterizedTest
    @ValueSource(strings = {
            "io/debezium/connector/base/ChangeEventQueue.class",
            "io/debezium/pipeline/meters/CommonEventMeter.class",
            "io/debezium/pipeline/meters/CommonEventMeter$1.class",
            "io/debezium/connector/postgresql/SourceInfo.class",
            "io/debezium/connector/postgresql/connection/DateTimeFormat.class",
            "io/debezium/connector/postgresql/connection/DateTimeFormat$ISODateTimeFormat.class",
            "io/debezium/connector/postgresql/connection/pgoutput/PgOutputMessageDecoder.class",
            "org/apache/kafka/connect/data/ConnectSchema.class"})
    void shadedJarShipsThePatchedClass(String entry) throws Exception {
        Path jar = Path.of("target", "cdc-relay.jar");
        assertThat(jar).as("the shaded jar, built in the package phase").exists();
        Path ours = Path.of("target", "classes").resolve(entry);
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            byte[] shipped = zip.getInputStream(zip.getEntry(entry)).readAllBytes();
            assertThat(shipped).as(entry).isEqualTo(Files.readAllBytes(ours));
        }
    }
}
