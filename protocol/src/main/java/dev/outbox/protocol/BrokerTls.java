package dev.outbox.protocol;

import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Points a {@link ConnectionFactory} at an AMQP URI, with TLS that verifies the broker for
 * {@code amqps://}: the certificate must chain to the CA(s) in a PEM file, or to the JVM's
 * trust store when none is given, and must name the host of the URI.
 *
 * <p>Why not {@code ConnectionFactory.setUri("amqps://...")} alone: the client then checks the
 * certificate chain against the JVM's trust store only (older clients trusted everything) and
 * never the host name, so any certificate from a trusted CA could pose as the broker; and it
 * offers no way to name a private CA.
 */
public final class BrokerTls {

    /** The AMQPS port RabbitMQ listens on when the URI names none. */
    public static final int DEFAULT_TLS_PORT = 5671;

    private BrokerTls() {}

    /**
     * Applies {@code uri} (credentials, virtual host, host and port) to {@code factory}; for
     * {@code amqps://}, TLS with peer and host name verification.
     *
     * @param caFile PEM file of the CA certificate(s) to trust, or {@code null} for the JVM's trust store
     * @throws IllegalArgumentException when the URI is unusable, or a CA file is given for a plain {@code amqp://} URI
     * @throws GeneralSecurityException when the CA file holds no usable certificate
     */
    public static void configure(ConnectionFactory factory, String uri, Path caFile)
            throws GeneralSecurityException, IOException {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a valid URI: " + e.getReason());
        }
        boolean tls = "amqps".equalsIgnoreCase(parsed.getScheme());
        if (!tls && caFile != null) {
            throw new IllegalArgumentException("a CA file is set but the URI is not amqps://; use amqps:// for TLS");
        }
        try {
            // The plain form: TLS is set up below, with the CA file and host name verification.
            factory.setUri(tls ? "amqp" + uri.substring(uri.indexOf(':')) : uri);
        } catch (URISyntaxException | java.security.NoSuchAlgorithmException | java.security.KeyManagementException e) {
            throw new IllegalArgumentException(
                    "not a usable AMQP URI (" + e.getClass().getSimpleName() + ")");
        }
        if (!tls) {
            return;
        }
        if (parsed.getPort() == -1) {
            factory.setPort(DEFAULT_TLS_PORT);
        }
        factory.useSslProtocol(sslContext(caFile));
        factory.enableHostnameVerification();
    }

    /** An SSL context trusting the certificates in {@code caFile}, or the JVM's defaults when it is {@code null}. */
    public static SSLContext sslContext(Path caFile) throws GeneralSecurityException, IOException {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (caFile == null) {
            trust.init((KeyStore) null);
        } else {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            Collection<? extends Certificate> certificates;
            try (InputStream in = Files.newInputStream(caFile)) {
                certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (certificates.isEmpty()) {
                throw new GeneralSecurityException(caFile + " holds no PEM certificate");
            }
            int i = 0;
            for (Certificate c : certificates) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            trust.init(store);
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    /** Whether {@code e} (or a cause) is a failed TLS handshake: an untrusted certificate or a host name it does not name. */
    public static boolean isHandshakeFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof javax.net.ssl.SSLHandshakeException
                    || t instanceof java.security.cert.CertificateException) {
                return true;
            }
        }
        return false;
    }
}
