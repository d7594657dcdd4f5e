package dev.outbox.testing;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The relay jar in a child process, for what only a process can suffer (SIGKILL, SIGTERM, exit
 * codes) and for modules that run the relay as users do. The jar is {@code cdc-relay/target/cdc-relay.jar},
 * found from the module's directory: built by {@code ./mvnw package} of cdc-relay, before the
 * modules after it in the build.
 */
public final class RelayProcess implements AutoCloseable {

    public static final Path JAR = findJar();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final Path log;
    private final int httpPort;

    private static Path findJar() {
        Path inModule = Path.of("target", "cdc-relay.jar");
        if (Files.exists(inModule) || Files.exists(Path.of("src", "main", "java", "dev", "outbox", "relay"))) {
            return inModule;
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path jar = dir.resolve(Path.of("cdc-relay", "target", "cdc-relay.jar"));
            if (Files.isDirectory(dir.resolve("cdc-relay"))) {
                return jar;
            }
        }
        return inModule;
    }

    private RelayProcess(Process process, Path log, int httpPort) {
        this.process = process;
        this.log = log;
        this.httpPort = httpPort;
    }

    public static RelayProcess start(Map<String, String> env, String name, String... args) throws IOException {
        return start(env, name, List.of("-Xmx256m"), args);
    }

    /** As {@link #start(Map, String, String...)}, the JVM started with {@code jvmOptions}. */
    public static RelayProcess start(Map<String, String> env, String name, List<String> jvmOptions, String... args)
            throws IOException {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run ./mvnw package first");
        }
        Path log = Files.createDirectories(Path.of("target", "relay-logs")).resolve(name + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("RELAY_"));
        pb.environment().putAll(env);
        return new RelayProcess(pb.start(), log, Integer.parseInt(env.getOrDefault("RELAY_HTTP_PORT", "8080")));
    }

    /** Status code of GET /health/ready, or -1 when nothing answers. */
    public int readyStatus() {
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health/ready"))
                            .timeout(Duration.ofSeconds(2))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    public String get(String path) throws IOException, InterruptedException {
        return HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    public RelayProcess awaitReady() {
        await("relay process ready")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("relay exited with " + process.exitValue() + ":\n" + output());
                    }
                    return readyStatus() == 200;
                });
        return this;
    }

    /** SIGKILL: no shutdown hook, no last offset flush. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM, then the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        process.waitFor();
        return process.exitValue();
    }

    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            throw new AssertionError("relay did not exit within " + timeout + ":\n" + output());
        }
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    public File logFile() {
        return log.toFile();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
