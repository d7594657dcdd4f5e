package dev.outbox.bench;

import dev.outbox.testing.Ports;
import dev.outbox.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The anchor: Debezium Server {@value #VERSION} with the PostgreSQL connector, the Outbox Event
 * Router and the RabbitMQ sink, as a child process on its own Java (21+; the Temurin 25 JDK by
 * default, {@code BENCH_ANCHOR_JAVA} to change it), measured like the relay. {@code bench/run}
 * unpacks the distribution (from Maven Central) into {@link #HOME}; each run gets a directory of
 * its own with the configuration filled in from {@code anchor/application.properties}.
 */
final class AnchorRun extends Measured {

    static final String VERSION = "3.6.1.Final";
    static final Path HOME = Path.of("bench", "target", "debezium-server");
    private static final String DEFAULT_JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";

    private final TestDatabase db;
    private final String slot;

    private AnchorRun(Process process, TestDatabase db, String slot) {
        super(process, "Debezium Server", "bench/target/anchor-*.log");
        this.db = db;
        this.slot = slot;
    }

    /** Starts Debezium Server on {@code db}, publishing to {@code exchange} in the virtual host of {@code uri}. */
    static AnchorRun start(TestDatabase db, String uri, String exchange, String slot, String logName)
            throws IOException {
        Path runner = runner();
        Path dir = Files.createDirectories(Path.of("bench", "target", "anchor-runs", slot));
        Files.createDirectories(dir.resolve("config"));
        int port = Ports.free();
        URI amqp = URI.create(uri);
        String[] credentials = amqp.getUserInfo() == null
                ? new String[] {"guest", "guest"}
                : amqp.getUserInfo().split(":", 2);
        String vhost = amqp.getPath() == null || amqp.getPath().length() <= 1
                ? "/"
                : java.net.URLDecoder.decode(amqp.getPath().substring(1), StandardCharsets.UTF_8);
        URI jdbc = URI.create(db.url().substring("jdbc:".length()));
        String config = template()
                .replace("@host@", amqp.getHost())
                .replace("@port@", Integer.toString(amqp.getPort() > 0 ? amqp.getPort() : 5672))
                .replace("@user@", credentials[0])
                .replace("@password@", credentials.length > 1 ? credentials[1] : "")
                .replace("@vhost@", vhost)
                .replace("@exchange@", exchange)
                .replace(
                        "@offsets@", dir.toAbsolutePath().resolve("offsets.dat").toString())
                .replace("@dbhost@", jdbc.getHost())
                .replace("@dbport@", Integer.toString(jdbc.getPort() > 0 ? jdbc.getPort() : 5432))
                .replace("@dbuser@", db.user())
                .replace("@dbpassword@", db.password() == null ? "" : db.password())
                .replace("@dbname@", jdbc.getPath().substring(1))
                .replace("@slot@", slot)
                .replace("@httpPort@", Integer.toString(port));
        Files.writeString(dir.resolve("config").resolve("application.properties"), config);
        Path home = HOME.toAbsolutePath();
        String classPath = String.join(
                java.io.File.pathSeparator,
                runner.toAbsolutePath().toString(),
                home.resolve("config").resolve("lib").toString(),
                home.resolve("lib") + "/*");
        // Quarkus on Java 24+ needs java.lang opened (its thread-local reset), as its error message says.
        List<String> command = List.of(
                java(), "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-cp", classPath, "io.debezium.server.Main");
        Path log = Files.createDirectories(Path.of("bench", "target")).resolve(logName + ".log");
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toAbsolutePath().toFile());
        return new AnchorRun(pb.start(), db, slot);
    }

    /**
     * Waits until Debezium Server streams: its slot is active. Its own readiness check
     * ({@code /q/health/ready}) answers UP before the connector has made its slot, and a row
     * committed in between is never streamed.
     */
    AnchorRun awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            checkAlive();
            if (db.queryLong("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '" + slot + "'")
                    == 1) {
                return this;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException(
                "Debezium Server not streaming within 3 minutes; see bench/target/anchor-*.log");
    }

    @Override
    void awaitReadiness() throws InterruptedException {
        awaitReady();
    }

    /** Thread groups: JIT, GC and safepoints, Debezium's threads, the rest. */
    @Override
    String threadGroup(String name) {
        if (name.contains("CompilerThre")) {
            return "JIT compilers";
        }
        if (name.equals("VM Thread") || name.startsWith("G1 ") || name.startsWith("GC Thread")) {
            return "GC and safepoints";
        }
        if (name.startsWith("debezium-") || name.startsWith("pool-")) {
            return "Debezium (WAL reader, engine, sink)";
        }
        return "other";
    }

    /** The JVM that runs the anchor, for the table. */
    static String java() {
        return System.getenv().getOrDefault("BENCH_ANCHOR_JAVA", DEFAULT_JAVA);
    }

    private static Path runner() {
        Path runner = HOME.resolve("debezium-server-dist-" + VERSION + "-runner.jar");
        if (!Files.exists(runner)) {
            throw new IllegalStateException(runner + " not found: bench/run unpacks Debezium Server " + VERSION
                    + " there (io.debezium:debezium-server-dist:" + VERSION + ":tar.gz)");
        }
        return runner;
    }

    private static String template() throws IOException {
        try (InputStream in = AnchorRun.class.getResourceAsStream("/anchor/application.properties")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
