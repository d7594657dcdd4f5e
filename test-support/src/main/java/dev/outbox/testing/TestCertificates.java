package dev.outbox.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A certificate authority and a server certificate for {@code localhost} (DNS name only, not
 * the IP address), made with openssl in a temporary directory for one test; deleted on close.
 * A second, unrelated CA ({@link #otherCa()}) is there to show what an untrusted signer does.
 */
public final class TestCertificates implements AutoCloseable {

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    public static TestCertificates create() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("outbox-tls-");
        TestCertificates certs = new TestCertificates(dir);
        try {
            Files.writeString(
                    dir.resolve("server.ext"),
                    "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                            + "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
            certs.openssl(
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=outbox test CA");
            certs.openssl(
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    "other-ca.key",
                    "-out",
                    "other-ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=some other CA");
            certs.openssl(
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=localhost");
            certs.openssl(
                    "x509",
                    "-req",
                    "-in",
                    "server.csr",
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    "server.pem",
                    "-days",
                    "2",
                    "-extfile",
                    "server.ext");
            return certs;
        } catch (IOException | InterruptedException | RuntimeException e) {
            certs.close();
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    /** The CA that signed {@link #serverCertificate()}. */
    public Path ca() {
        return dir.resolve("ca.pem");
    }

    /** A CA that signed nothing here. */
    public Path otherCa() {
        return dir.resolve("other-ca.pem");
    }

    public Path serverCertificate() {
        return dir.resolve("server.pem");
    }

    public Path serverKey() {
        return dir.resolve("server.key");
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed: " + out);
        }
    }

    @Override
    public void close() throws IOException {
        Directories.deleteRecursively(dir);
    }
}
