package dev.outbox.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A second, throw-away RabbitMQ node on this machine with a TLS listener only, started from the local RabbitMQ installation with its own node
 * name, ports, data directory and Erlang cookie; stopped and deleted on close. The shared
 * broker is never reconfigured.
 */
public final class TlsBroker implements AutoCloseable {

    private static final String SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private static final String CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl";

    private final Path dir;
    private final String node;
    private final int tlsPort;
    private final Map<String, String> env;

    private TlsBroker(Path dir, String node, int tlsPort, Map<String, String> env) {
        this.dir = dir;
        this.node = node;
        this.tlsPort = tlsPort;
        this.env = env;
    }

    /** Whether this machine can run a second node (a local RabbitMQ installation and openssl). */
    public static boolean available() {
        return Files.isExecutable(Path.of(SERVER)) && Files.isExecutable(Path.of(CTL));
    }

    public static TlsBroker start(TestCertificates certs) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("outbox-rabbit-tls-");
        String node = "outbox_tls_" + ThreadLocalRandom.current().nextInt(1_000_000) + "@localhost";
        int tlsPort = Ports.free();
        // No plain listener: its default port is the shared broker's.
        Files.writeString(
                dir.resolve("rabbitmq.conf"),
                String.join(
                        "\n",
                        "listeners.tcp = none",
                        "listeners.ssl.default = 127.0.0.1:" + tlsPort,
                        "ssl_options.cacertfile = " + certs.ca(),
                        "ssl_options.certfile = " + certs.serverCertificate(),
                        "ssl_options.keyfile = " + certs.serverKey(),
                        "ssl_options.verify = verify_none",
                        "ssl_options.fail_if_no_peer_cert = false",
                        "loopback_users = none",
                        ""));
        Files.writeString(dir.resolve("enabled_plugins"), "[].\n");
        Files.writeString(
                dir.resolve(".erlang.cookie"),
                "OUTBOXTLS" + ThreadLocalRandom.current().nextLong(1L << 40));
        Files.setPosixFilePermissions(
                dir.resolve(".erlang.cookie"), java.nio.file.attribute.PosixFilePermissions.fromString("r--------"));
        Map<String, String> env = Map.of(
                "HOME", dir.toString(),
                "RABBITMQ_NODENAME", node,
                "RABBITMQ_DIST_PORT", Integer.toString(Ports.free()),
                "RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString(),
                "RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString(),
                "RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString(),
                "RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString(),
                "RABBITMQ_LOG_BASE", dir.resolve("log").toString(),
                "RABBITMQ_PID_FILE", dir.resolve("node.pid").toString());
        TlsBroker broker = new TlsBroker(dir, node, tlsPort, env);
        try {
            broker.run(60, SERVER, "-detached");
            broker.run(120, CTL, "-n", node, "wait", dir.resolve("node.pid").toString(), "--timeout", "110");
            return broker;
        } catch (IOException | InterruptedException | RuntimeException e) {
            broker.close();
            throw e;
        }
    }

    /** amqps:// as guest on the TLS listener, at {@code host} (the certificate names localhost only). */
    public String tlsUri(String host) {
        return "amqps://guest:guest@" + host + ":" + tlsPort + "/%2F";
    }

    private String run(int timeoutSeconds, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(command)).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(
                    String.join(" ", command) + " failed: " + out + " (logs in " + dir.resolve("log") + ")");
        }
        return out;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            run(60, CTL, "-n", node, "stop");
        } catch (IOException notRunning) {
            // never started, or already gone: the pid file tells
            Path pid = dir.resolve("node.pid");
            if (Files.exists(pid)) {
                new ProcessBuilder("kill", "-9", Files.readString(pid).trim())
                        .start()
                        .waitFor();
            }
        } finally {
            Directories.deleteRecursively(dir);
        }
    }
}
