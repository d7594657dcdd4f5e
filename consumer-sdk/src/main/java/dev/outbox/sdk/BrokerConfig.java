package dev.outbox.sdk;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where the broker is and who we are to it. Immutable and validated when built; the URI
 * (which holds the password) is masked in {@link #toString()}.
 *
 * @param uri            AMQP URI: credentials, virtual host, {@code amqps://} for TLS
 * @param addresses      host:port list of a cluster; when not empty it replaces the URI's host
 * @param appId          AMQP {@code app-id} of what this process publishes
 * @param caFile         for {@code amqps://}: PEM file of the CA(s) that signed the broker's certificate;
 *                       {@code null} trusts the JVM's trust store. The broker's host name is always verified.
 */
public record BrokerConfig(String uri, List<String> addresses, String appId, java.nio.file.Path caFile) {

    public static final String DEFAULT_URI = "amqp://guest:guest@localhost:5672/%2F";

    public BrokerConfig {
        Objects.requireNonNull(uri, "uri");
        try {
            URI parsed = new URI(uri);
            if (!"amqp".equals(parsed.getScheme()) && !"amqps".equals(parsed.getScheme())) {
                throw new IllegalArgumentException(
                        "broker URI must start with amqp:// or amqps:// (was scheme " + parsed.getScheme() + ")");
            }
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("broker URI is not a valid URI: " + e.getReason(), e);
        }
        if (caFile != null) {
            if (!uri.startsWith("amqps:")) {
                throw new IllegalArgumentException("OUTBOX_RABBITMQ_CA_FILE is set but the broker URI is not amqps://;"
                        + " use amqps:// for TLS or unset the CA file");
            }
            if (!java.nio.file.Files.isReadable(caFile)) {
                throw new IllegalArgumentException("OUTBOX_RABBITMQ_CA_FILE " + caFile + " is not a readable file");
            }
        }
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
        appId = appId == null || appId.isBlank() ? "outbox-sdk" : appId;
    }

    /** The broker at {@code uri}, single node. */
    public static BrokerConfig of(String uri) {
        return new BrokerConfig(uri, List.of(), null, null);
    }

    /**
     * From the environment: {@code OUTBOX_RABBITMQ_URI} [{@value #DEFAULT_URI}],
     * {@code OUTBOX_RABBITMQ_ADDRESSES} (comma-separated host:port), {@code OUTBOX_APP_ID} [outbox-sdk],
     * {@code OUTBOX_RABBITMQ_CA_FILE} (PEM CA for amqps://; default: the JVM's trust store).
     */
    public static BrokerConfig fromEnv() {
        return from(System.getenv());
    }

    static BrokerConfig from(Map<String, String> env) {
        String uri = env.getOrDefault("OUTBOX_RABBITMQ_URI", DEFAULT_URI);
        String addresses = env.getOrDefault("OUTBOX_RABBITMQ_ADDRESSES", "");
        String caFile = env.getOrDefault("OUTBOX_RABBITMQ_CA_FILE", "");
        return new BrokerConfig(
                uri,
                addresses.isBlank() ? List.of() : List.of(addresses.split("\\s*,\\s*")),
                env.get("OUTBOX_APP_ID"),
                caFile.isBlank() ? null : java.nio.file.Path.of(caFile));
    }

    public BrokerConfig withAppId(String appId) {
        return new BrokerConfig(uri, addresses, appId, caFile);
    }

    public BrokerConfig withAddresses(List<String> addresses) {
        return new BrokerConfig(uri, addresses, appId, caFile);
    }

    /** Trust the CA(s) in this PEM file for {@code amqps://} instead of the JVM's trust store. */
    public BrokerConfig withCaFile(java.nio.file.Path caFile) {
        return new BrokerConfig(uri, addresses, appId, caFile);
    }

    @Override
    public String toString() {
        URI parsed = URI.create(uri);
        return "BrokerConfig[" + parsed.getScheme() + "://"
                + (addresses.isEmpty() ? parsed.getHost() + ":" + parsed.getPort() : String.join(",", addresses))
                + parsed.getRawPath() + ", appId=" + appId + "]";
    }
}
