package dev.outbox.relay;

import dev.outbox.testing.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A second, throw-away PostgreSQL cluster on this machine (Debian's pg_createcluster), for what
 * the shared server cannot be made to show: a wal_level other than logical, a slot PostgreSQL invalidates.
 */
final class ScratchCluster implements AutoCloseable {

    private final String name;
    private final int port;
    private final String version;

    private ScratchCluster(String version, String name, int port) {
        this.version = version;
        this.name = name;
        this.port = port;
    }

    static ScratchCluster start(String walLevel, String... settings) throws IOException, InterruptedException {
        return start(walLevel, null, settings);
    }

    /**
     * A logical-decoding cluster that serves TLS with {@code certs}' server certificate (for
     * localhost), so clients can connect with {@code sslmode=verify-full}.
     */
    static ScratchCluster startWithTls(dev.outbox.testing.TestCertificates certs)
            throws IOException, InterruptedException {
        return start("logical", certs);
    }

    private static ScratchCluster start(String walLevel, dev.outbox.testing.TestCertificates certs, String... settings)
            throws IOException, InterruptedException {
        String version =
                run("bash", "-c", "ls /etc/postgresql | sort -n | tail -1").trim();
        String name = "it_scratch_" + ThreadLocalRandom.current().nextInt(100_000);
        int port = Ports.free();
        run("pg_createcluster", version, name, "-p", Integer.toString(port), "--", "--auth=trust", "--no-instructions");
        ScratchCluster cluster = new ScratchCluster(version, name, port);
        try {
            String conf = "/etc/postgresql/" + version + "/" + name + "/postgresql.conf";
            run("bash", "-c", "echo \"wal_level = " + walLevel + "\" >> " + conf);
            for (String setting : settings) {
                run("bash", "-c", "echo \"" + setting + "\" >> " + conf);
            }
            if (certs != null) {
                // The server's key must belong to postgres and be private to it.
                String data = "/var/lib/postgresql/" + version + "/" + name;
                run(
                        "install",
                        "-o",
                        "postgres",
                        "-g",
                        "postgres",
                        "-m",
                        "600",
                        certs.serverKey().toString(),
                        data + "/tls.key");
                run(
                        "install",
                        "-o",
                        "postgres",
                        "-g",
                        "postgres",
                        "-m",
                        "644",
                        certs.serverCertificate().toString(),
                        data + "/tls.crt");
                run(
                        "bash",
                        "-c",
                        "printf \"ssl = on\\nssl_cert_file = '" + data + "/tls.crt'\\nssl_key_file = '" + data
                                + "/tls.key'\\n\" >> " + conf);
            }
            run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start");
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    int port() {
        return port;
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p =
                new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run("pg_dropcluster", "--stop", version, name);
    }
}
