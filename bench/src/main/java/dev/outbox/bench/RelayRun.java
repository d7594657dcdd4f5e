package dev.outbox.bench;

import dev.outbox.testing.Ports;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The relay as a child process, started with {@code scripts/relay} (the launcher users run:
 * explicit heap, serial GC), with its peak RSS sampled every 100 ms and its CPU time read
 * from /proc. RELAY_* variables of the benchmark's own environment reach it (tuning under
 * test), RELAY_JAVA_EXTRA_OPTS among them (e.g. a JFR recording).
 */
final class RelayRun extends Measured {

    private final int httpPort;

    private RelayRun(Process process, int httpPort) {
        super(process, "relay", "bench/target/*.log");
        this.httpPort = httpPort;
    }

    static RelayRun start(Map<String, String> relayEnv, String logName) throws IOException {
        int port = Ports.free();
        Map<String, String> env = new HashMap<>(relayEnv);
        env.put("RELAY_HTTP_PORT", Integer.toString(port));
        env.putIfAbsent("RELAY_CAPTURE_DEAD_LETTERS", "false");
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("RELAY_")) {
                env.put(k, v);
            }
        });
        List<String> command = List.of(launcher().toString(), "run");
        Path log = Files.createDirectories(Path.of("bench", "target")).resolve(logName + ".log");
        ProcessBuilder pb =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return new RelayRun(pb.start(), port);
    }

    /** Waits until /health/ready answers 200. */
    RelayRun awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            checkAlive();
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + httpPort + "/health/ready")
                        .toURL()
                        .openConnection();
                c.setConnectTimeout(500);
                c.setReadTimeout(500);
                if (c.getResponseCode() == 200) {
                    return this;
                }
            } catch (IOException notYet) {
                // starting
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException("relay not ready within 2 minutes; see bench/target/*.log");
    }

    @Override
    void awaitReadiness() throws InterruptedException {
        awaitReady();
    }

    /** The JVM options the relay runs with, for the table: the launcher's own unless RELAY_JAVA* replace or add to them. */
    static String jvmOptions() {
        String replaced = System.getenv("RELAY_JAVA_OPTS");
        String options = replaced == null || replaced.isBlank() ? "scripts/relay's JVM options" : replaced;
        String extra = System.getenv("RELAY_JAVA_EXTRA_OPTS");
        String java = System.getenv("RELAY_JAVA");
        return options
                + (extra == null || extra.isBlank() ? "" : " " + extra)
                + (java == null || java.isBlank() ? "" : ", java " + java);
    }

    private static Path launcher() {
        Path launcher = Path.of("scripts", "relay");
        // scripts/relay runs RELAY_JAR when it is set (bench/patches' variants), else the built jar.
        Path jar = Path.of(System.getenv().getOrDefault("RELAY_JAR", "cdc-relay/target/cdc-relay.jar"));
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " not found: run ./mvnw package first (bench/run does)");
        }
        return launcher.toAbsolutePath();
    }

    /**
     * CPU seconds of the relay's threads so far, grouped by what they do (names from /proc, which
     * cuts them to 15 characters): the JIT compilers, the VM thread (the serial collector's pauses
     * and other safepoints), Debezium's threads (the WAL reader), the engine's pool (the batch
     * handler, which publishes), the AMQP connection, the main thread (start-up) and the rest.
     * Empty off Linux.
     */
    @Override
    String threadGroup(String name) {
        if (name.contains("CompilerThre")) {
            return "JIT compilers";
        }
        if (name.equals("VM Thread")) {
            return "GC and safepoints";
        }
        if (name.startsWith("debezium-")) {
            return "Debezium (WAL reader)";
        }
        if (name.startsWith("pool-")) {
            return "engine pool (batch handler, publishing)";
        }
        if (name.startsWith("AMQP")) {
            return "AMQP connection";
        }
        return name.equals("java") ? "main (start-up)" : "other";
    }
}
