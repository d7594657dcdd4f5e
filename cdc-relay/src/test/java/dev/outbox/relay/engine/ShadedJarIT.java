package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * After packaging: the relay's jar ships the patched Debezium and Kafka classes (see
 * DebeziumPatchTest), not the libraries' own. Every class compiled into the packages io and org
 * comes from src/patched/java (docs/patches.md), nested ones included, so the list is read
 * from target/classes rather than kept by hand.
 */
class ShadedJarIT {

    private static final Path CLASSES = Path.of("target", "classes");

    static List<String> patchedClassFiles() throws IOException {
        try (Stream<Path> files =
                Stream.concat(Files.walk(CLASSES.resolve("io")), Files.walk(CLASSES.resolve("org")))) {
            List<String> entries = files.filter(f -> f.toString().endsWith(".class"))
                    .map(f -> CLASSES.relativize(f).toString().replace('\\', '/'))
                    .sorted()
                    .toList();
            assertThat(entries).as("patched classes compiled into " + CLASSES).isNotEmpty();
            return entries;
        }
    }

    @ParameterizedTest
    @MethodSource("patchedClassFiles")
    void shadedJarShipsThePatchedClass(String entry) throws Exception {
        Path jar = Path.of("target", "cdc-relay.jar");
        assertThat(jar).as("the shaded jar, built in the package phase").exists();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            byte[] shipped = zip.getInputStream(zip.getEntry(entry)).readAllBytes();
            assertThat(shipped).as(entry).isEqualTo(Files.readAllBytes(CLASSES.resolve(entry)));
        }
    }
}
